/**
 * A run's error as the API shows it: every reader the summary, admins the whole text.
 */
import { runView } from '../../../src/linkage/routes';

const failed = {
  id: 'r-1',
  status: 'failed',
  phase: 'extract',
  error: 'extract: Neo.ClientError.Statement.SyntaxError: Invalid input at host db-7',
  errorSummary: 'extract: internal_error',
};

describe('runView', () => {
  it('shows others the summary only, admins the whole text as errorDetail', () => {
    expect(runView(failed, false, false)).toMatchObject({
      error: 'extract: internal_error',
      errorDetail: null,
    });
    expect(JSON.stringify(runView(failed, false, false))).not.toContain('db-7');
    expect(runView(failed, false, true)).toMatchObject({
      error: 'extract: internal_error',
      errorDetail: failed.error,
    });
  });

  it('a run failed before summaries were kept shows others a fixed text', () => {
    const { errorSummary: _, ...legacy } = failed;
    expect(runView(legacy, false, false)).toMatchObject({
      error: 'failed; the error is shown to admins (errorDetail)',
      errorDetail: null,
    });
    expect(runView(legacy, false, true).errorDetail).toBe(failed.error);
  });

  it('a run that did not fail has neither', () => {
    const ok = { id: 'r-2', status: 'succeeded', phase: 'done' };
    expect(runView(ok, true, true)).toMatchObject({ error: null, errorDetail: null });
  });
});
