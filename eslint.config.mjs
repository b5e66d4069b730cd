// Lint config: typescript-eslint's recommended rules over src, test and bench, and for
// tests the jest rules that keep a test honest (an expect that is never awaited or has
// no matcher, a skipped or focused test, a test that asserts nothing).
import js from '@eslint/js';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'neo4j-local/**',
      '.coterie/**',
      'bench/out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through src/platform/config.ts',
        },
      ],
    },
  },
  {
    files: [
      'src/platform/config.ts',
      'test/**',
      'bench/**',
      'jest.config.js',
      'src/platform/neo4j-local.ts',
      'src/platform/jdk.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { jest },
    rules: {
      'jest/valid-expect': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/no-focused-tests': 'error',
      // set-up may assert too: a failed beforeAll fails the file's tests
      'jest/no-standalone-expect': [
        'error',
        { additionalTestBlockFunctions: ['beforeAll', 'beforeEach', 'afterAll', 'afterEach'] },
      ],
      // helpers named for what they check assert inside (e.g. ctrlC in service-process)
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'ctrlC'] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        module: 'writable',
        require: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
  },
);
