/**
 * exports/csv — an embedding matrix as CSV: `id`, the label columns, then one column per
 * dimension (e0, e1, ...). Fields are quoted as RFC 4180 says; every float32 is written with the
 * fewest digits that read back as the same float32; a missing label is an empty cell.
 */
import { writeAtomically, type FileSink } from '../core/atomic';
import { checkExport, checkUniqueNames, DEFAULT_COLUMN_PREFIX, labelColumnValues, type MatrixExport } from './types';

const LINE_END = '\n';
/** The file is written in chunks of this many bytes. */
const CHUNK_BYTES = 1 << 20;
const COMMA = 0x2c;
const FLOAT32_MAX_DIGITS = 9; // 9 significant digits always identify a float32

export function writeCsv(path: string, data: MatrixExport): void {
  checkExport(path, data);
  const labelColumns = data.labels?.columns ?? [];
  const header = csvHeader(data, labelColumns.map((column) => column.name));
  checkUniqueNames(path, header);
  const labelCells = labelColumns.map((column) => labelColumnValues(path, data.labels!, column).map(labelCell));
  writeAtomically(path, (sink) => {
    const out = new ChunkedBytes(sink);
    out.text(header.map(csvField).join(',') + LINE_END);
    for (let row = 0; row < data.rows; row += 1) writeRow(out, data, row, labelCells);
    out.flush();
  });
}

function csvHeader(data: MatrixExport, labelNames: string[]): string[] {
  const prefix = data.columnPrefix ?? DEFAULT_COLUMN_PREFIX;
  const dims = Array.from({ length: data.cols }, (_, index) => `${prefix}${index}`);
  return ['id', ...labelNames, ...dims];
}

function writeRow(out: ChunkedBytes, data: MatrixExport, row: number, labelCells: string[][]): void {
  const id = data.ids[row] as string;
  out.text(id === '' ? '""' : csvField(id)); // quoted, so that a row of one empty id is no blank line
  for (const cells of labelCells) out.text(',' + (cells[row] as string));
  const start = row * data.cols;
  for (let col = 0; col < data.cols; col += 1) {
    out.comma();
    out.ascii(formatFloat32(data.matrix[start + col] as number));
  }
  out.text(LINE_END);
}

function labelCell(value: number | string | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return formatNumber(value);
  // An empty category is quoted so that it differs from a missing one.
  return value === '' ? '""' : csvField(value);
}

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A float64 label: the shortest text that reads back as the same double. */
function formatNumber(value: number): string {
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/**
 * The shortest decimal that reads back (as float32, through a double as JavaScript and NumPy
 * parse it) as exactly `value`. String(value) is the shortest for a *double*, which for most
 * float32 values is a long tail such as 0.100000001490116; the float32 answer has at most 9
 * significant digits. Trying toPrecision(p) and parsing it back is correct but slow (~4 µs a
 * value), so the candidates are made with arithmetic instead: n = round(|value| / 10^q) has p
 * digits, and n * 10^q (or n / 10^-q) is one correctly rounded operation while n < 2^53 and
 * |q| <= 22, which is exactly the double that parsing the decimal text gives. Round-tripping is
 * monotone in p (the p-digit decimals are among the p+1-digit ones), so p is found by bisection.
 * Values too small or too large for that fast path (|value| < 1e-13 or > 1e22) parse strings.
 */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const magnitude = Math.abs(value);
  const decimal = shortestDecimal(magnitude);
  const text = decimal ? decimalText(decimal.digits, decimal.exponent) : shortestBySearch(magnitude);
  return value < 0 ? `-${text}` : text;
}

/** Exactly representable powers of ten, 10^0 .. 10^22. */
const POW10 = Array.from({ length: 23 }, (_, index) => Number(`1e${index}`));

interface Decimal {
  /** The significant digits, as an integer. */
  digits: number;
  /** The value is digits * 10^exponent. */
  exponent: number;
}

function shortestDecimal(magnitude: number): Decimal | undefined {
  const leading = leadingExponent(magnitude);
  let best: Decimal | undefined;
  let low = 1;
  let high = FLOAT32_MAX_DIGITS;
  while (low <= high) {
    const precision = (low + high) >> 1;
    const exponent = leading - precision + 1;
    if (exponent > 22 || exponent < -22) return undefined;
    const digits = exponent >= 0 ? Math.round(magnitude / (POW10[exponent] as number)) : Math.round(magnitude * (POW10[-exponent] as number));
    const parsed = exponent >= 0 ? digits * (POW10[exponent] as number) : digits / (POW10[-exponent] as number);
    if (Math.fround(parsed) === magnitude) {
      best = { digits, exponent };
      high = precision - 1;
    } else {
      low = precision + 1;
    }
  }
  return best;
}

/** Powers of ten as parsed from text (correctly rounded), 10^-50 .. 10^50, for comparisons. */
const DECIMAL_POWERS = Array.from({ length: 101 }, (_, index) => Number(`1e${index - 50}`));

/** floor(log10(magnitude)), corrected where Math.log10 lands just beside a power of ten. */
function leadingExponent(magnitude: number): number {
  let exponent = Math.floor(Math.log10(magnitude));
  if ((DECIMAL_POWERS[exponent + 50] ?? 0) > magnitude) exponent -= 1;
  else if ((DECIMAL_POWERS[exponent + 51] ?? Infinity) <= magnitude) exponent += 1;
  return exponent;
}

/** The decimal as Number.prototype.toString would write it (no trailing zeros). */
function decimalText(digits: number, exponent: number): string {
  while (digits % 10 === 0) {
    digits /= 10;
    exponent += 1;
  }
  const text = String(digits);
  const point = text.length + exponent; // the value is 0.<text> * 10^point
  if (exponent >= 0 && point <= 21) return text + '0'.repeat(exponent);
  if (point > 0 && point <= 21) return `${text.slice(0, point)}.${text.slice(point)}`;
  if (point > -6 && point <= 0) return `0.${'0'.repeat(-point)}${text}`;
  const mantissa = text.length === 1 ? text : `${text[0]}.${text.slice(1)}`;
  return `${mantissa}e${point - 1 >= 0 ? '+' : '-'}${Math.abs(point - 1)}`;
}

/** The slow, plainly correct way, for magnitudes outside the fast path. */
function shortestBySearch(magnitude: number): string {
  for (let precision = 1; precision < FLOAT32_MAX_DIGITS; precision += 1) {
    const parsed = Number(magnitude.toPrecision(precision));
    if (Math.fround(parsed) === magnitude) return String(parsed);
  }
  return String(Number(magnitude.toPrecision(FLOAT32_MAX_DIGITS)));
}

/**
 * Encodes the CSV straight into a reused 1 MiB buffer that is written out whenever it fills:
 * building rows as strings first costs more in garbage collection than the formatting itself.
 */
class ChunkedBytes {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private length = 0;

  constructor(private readonly sink: FileSink) {}

  /** Any text, as UTF-8. */
  text(value: string): void {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > CHUNK_BYTES - this.length) this.flush();
    if (bytes > CHUNK_BYTES) this.sink.write(Buffer.from(value, 'utf8'));
    else this.length += this.buffer.write(value, this.length, 'utf8');
  }

  /** Text known to be ASCII and short (a formatted number). */
  ascii(value: string): void {
    if (value.length > CHUNK_BYTES - this.length) this.flush();
    this.length += this.buffer.write(value, this.length, 'latin1');
  }

  comma(): void {
    if (this.length === CHUNK_BYTES) this.flush();
    this.buffer[this.length++] = COMMA;
  }

  flush(): void {
    if (this.length === 0) return;
    this.sink.write(this.buffer.subarray(0, this.length));
    this.length = 0;
  }
}
