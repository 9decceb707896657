#!/usr/bin/env node
// npm run bench — prints speed figures; later issues add their own scripts to SUITES.
// Each suite is a script in bench/ that prints its own lines of figures; `npm run bench -- embed`
// runs only the suites whose file name starts with "embed", and arguments starting with "--" are
// passed on to the suites (`npm run bench -- embed --quick`).
//   import.mjs      dataset import speed through the built CLI
//   embed.ts        embedding tokens/s and peak RSS, ESM-2 8M/35M/150M shapes, fp32 and fp16
//                   (10 to 15 minutes on 2 cores)
//   large-model.ts  the 650M shape: streaming conversion and embedding, peak RSS < 2 × weights;
//                   takes several minutes and needs ~8 GB of free disk in the temp folder
//   learn.ts        LassoCV (5 outer folds × 100 alphas × inner 5-fold), ours vs scikit-learn's when
//                   /usr/bin/python3 has it, on random-model embeddings of a mutation scan (456 × 320),
//                   a collinear 2,000 × 1,280 and an AR(1) 10,000 × 1,280 (~30 minutes on 2 cores,
//                   mostly scikit-learn; --case=embeddings|collinear|ar1, --quick: AR(1) at 2,000 × 320)
//   variants.ts     masked-marginal positions/s, 8M and 35M shapes, 300-residue protein, next to the same
//                   pass in PyTorch when /usr/bin/python3 has torch (a few minutes; --quick: 60 positions)
//   map.ts          Map page frame time (median, p95, fps) and first draw, 100,000 points, Chromium
//                   headless with SwiftShader WebGL, through serve (under a minute; --quick: 2 s gestures)
//   map-pca.ts      the Map's PCA at D 1,280: 10,000 rows (--quick: 2,000), covariance and top-2
//                   eigenvectors timed separately (~10 s on 2 cores)
//   train.ts        LoRA fine-tuning step time (median, p90), tokens/s and peak RSS, 8M and 35M shapes,
//                   8 × 250-token batches on the CPU, next to the same LoRA step in PyTorch when
//                   /usr/bin/python3 has torch (bench/torch-train.py) (a few minutes on 2 cores; --quick: 8M, 4 steps)
//   ontology.ts     GO labels at GO's size: a 45,000-term ontology, 500,000 GAF lines, propagation, the label
//                   matrix, and CAFA's scores of 5,000 × 1,000 predictions (under a minute on 2 cores)
//   split.ts        the similarity split (learn/homology): 20,000 planted-family sequences × 300 residues on
//                   2 worker threads, wall and CPU seconds, pairs aligned, prefilter recall (--quick: 2,000)
// TypeScript suites run through tsx.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SUITES = ['import.mjs', 'embed.ts', 'large-model.ts', 'learn.ts', 'variants.ts', 'map.ts', 'map-pca.ts', 'train.ts', 'ontology.ts', 'split.ts'];
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
for (const suite of SUITES.filter((s) => only.length === 0 || only.some((o) => s.startsWith(o)))) {
  console.log(`## ${suite}`);
  const file = join(import.meta.dirname, suite);
  const args = [...(suite.endsWith('.ts') ? ['--import', 'tsx', file] : [file]), ...flags];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
