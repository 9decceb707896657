/** The built `esm-studio` command on a temporary home: help, import, reports and exit codes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { assertBuilt, CLI_ENTRY, ROOT } from '../support/serve';

function cli(home: string, ...args: string[]) {
  assertBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), ...args], {
    env: { ...process.env, ESM_STUDIO_HOME: home },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'esm-cli-'));

describe('esm-studio CLI', () => {
  it('lists its commands', () => {
    const { code, out } = cli(scratch(), '--help');
    expect(code).toBe(0);
    for (const command of ['import', 'projects', 'datasets', 'benchmark']) expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(CLI_ENTRY).toContain('cli.js');
  });

  it('refuses a file with errors unless --accept, then creates the project and names the dataset after the file', () => {
    const home = scratch();
    const fasta = join(scratch(), 'kinases.fasta');
    writeFileSync(fasta, '>a\nMKV\n>b\nMKJV\n>a\nGGG\n');
    const refused = cli(home, 'import', '--project', 'Kinase work', '--fasta', fasta);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Records found: 3; importable: 2');
    expect(refused.out).toContain('line 4');
    expect(refused.err).toContain('Nothing was imported');
    const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM projects').get()).toEqual({ n: 0 });

    const accepted = cli(home, 'import', '--project', 'Kinase work', '--fasta', fasta, '--accept');
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain('Imported 2 sequences into dataset "kinases" of project "Kinase work"');
    expect(db.prepare('SELECT seq_id FROM sequences ORDER BY idx').all()).toEqual([{ seq_id: 'a' }, { seq_id: 'a_2' }]);

    const named = cli(home, 'import', '--project', 'Kinase work', '--fasta', fasta, '--accept', '--name', 'second copy');
    expect(named.code).toBe(0);
    expect(db.prepare('SELECT name FROM datasets ORDER BY id').all()).toEqual([{ name: 'kinases' }, { name: 'second copy' }]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM projects').get()).toEqual({ n: 1 });
    db.close();
  });

  it('imports a clean file without --accept and says which file it cannot read', () => {
    const home = scratch();
    const fasta = join(scratch(), 'clean.fa');
    writeFileSync(fasta, '>x\nMKV\n');
    expect(cli(home, 'import', '--project', 'P', '--fasta', fasta).code).toBe(0);
    const missing = cli(home, 'import', '--project', 'P', '--fasta', '/no/such/file.fasta');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('Cannot read /no/such/file.fasta: no such file.');
  });

  it('help texts state each default once and list the allowed values', () => {
    const home = scratch();
    const commands = ['import', 'projects', 'datasets', 'runs', 'benchmark', 'convert', 'embed', 'fit', 'score', 'finetune', 'predict', 'saturate'];
    for (const command of commands) {
      const { code, out } = cli(home, command, '--help');
      expect(code, command).toBe(0);
      // One option's text runs from its flag to the next flag; commander wraps it over lines.
      const options = out.split(/\n(?=\s{2}-)/);
      for (const option of options) expect(option.match(/\(default/g)?.length ?? 0, `${command}: ${option.trim()}`).toBeLessThanOrEqual(1);
    }
    const finetune = cli(home, 'finetune', '--help').out.replace(/\s+/g, ' ');
    expect(finetune).toContain('choices: "loss", "r2", "spearman", "pearson", "rmse", "mae", "accuracy", "balanced_accuracy", "macro_f1", "mcc", "auroc", "auprc", default: "loss"');
    expect(finetune).toContain('--head-only');
    expect(cli(home, '--help').out).toMatch(/^\s+runs\b/m);
  });

  it('--layers naming one layer twice (6 and -1 of a 6-layer model) says so', () => {
    const home = scratch();
    const fasta = join(home, 'one.fasta');
    writeFileSync(fasta, '>a\nMKVLA\n');
    const tiny = join(ROOT, 'test', 'fixtures', 'golden', 'tiny', 'checkpoint'); // 2 layers
    const twice = cli(home, 'embed', '--model', tiny, '--fasta', fasta, '--layers', '2,-1', '--out', join(home, 'out'));
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('--layers: 2 and -1 are the same layer of this 2-layer model (layer 2, the last); give it once.');
    const attention = cli(home, 'embed', '--model', tiny, '--fasta', fasta, '--attention', '1,1', '--out', join(home, 'out'));
    expect(attention.err).toContain('--attention: 1 is given twice of this 2-layer model (layer 1); give it once.');
    expect(cli(home, 'import', '--project', 'P', '--fasta', fasta).code).toBe(0);
    const project = cli(home, 'embed', '--project', 'P', '--dataset', 'one', '--model', tiny, '--layers', '1,-2');
    expect(project.code).toBe(2);
    expect(project.err).toContain('--layers: 1 and -2 are the same layer of this 2-layer model (layer 1); give it once.');
  });
});
