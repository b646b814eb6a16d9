import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../../../local/lambda/execution-environment.ts';

describe('workerExecArgv', () => {
  it("drops the parent's entry-point options, which a worker refuses", () => {
    expect(
      workerExecArgv(['--input-type=module', '-e', 'import("x")', '--disable-warning=ExperimentalWarning']),
    ).toEqual(['--disable-warning=ExperimentalWarning']);
    expect(workerExecArgv(['--eval', 'code', '--input-type', 'module', '-p', '1+1', '--print=2'])).toEqual(
      [],
    );
  });

  it('keeps the options that shape how modules load and run', () => {
    const argv = ['--conditions=development', '--import', 'tsx', '--enable-source-maps'];
    expect(workerExecArgv(argv)).toEqual(argv);
  });
});
