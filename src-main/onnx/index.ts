/**
 * onnx — a graph IR (values, nodes, initializers), a builder that reads like the model it
 * builds, and a writer to ONNX protobuf with external data. Knows nothing of proteins.
 */
export * from './builder';
export * from './dtypes';
export * from './ir';
export * from './writer';
