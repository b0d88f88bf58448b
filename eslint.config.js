import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'models/', 'data/', 'web/dist/', 'test-results/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      // Logging goes through the app's logger, which redacts; stray console calls could leak biometric data.
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['scripts/**', 'bench/**'], rules: { 'no-console': 'off' } },
  {
    // SQL lives in repositories (and the store itself): services compose them inside a transaction,
    // so a rule about what a query may touch is written once, next to the query.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.repository.ts', 'src/store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|selectNoFrom)$/]',
          message: 'Query builder calls belong in a *.repository.ts file.',
        },
        { selector: "TaggedTemplateExpression[tag.name='sql']", message: 'Raw SQL belongs in a *.repository.ts file.' },
        { selector: "MemberExpression[object.name='sql']", message: 'Raw SQL belongs in a *.repository.ts file.' },
      ],
    },
  },
  {
    // Routes and commands call services, which check their caller: never the store, the keys or SQL.
    files: ['src/api/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kysely', message: 'Routes and commands call services, not SQL.' }],
          patterns: [
            {
              group: [
                '**/store/store.js',
                '**/store/sqlite.js',
                '**/store/postgres.js',
                '**/store/migrator.js',
                '**/store/schema*.js',
              ],
              message: 'Routes and commands call services, never the store.',
            },
            { group: ['**/*.repository.js'], message: 'Routes and commands call services, not repositories.' },
            {
              group: ['**/privacy/keys.js', '**/privacy/keyring.js', '**/privacy/keystore.js'],
              message: 'Keys stay inside the services.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['web/**'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        location: 'readonly',
        sessionStorage: 'readonly',
        localStorage: 'readonly',
        fetch: 'readonly',
        FileReader: 'readonly',
        Blob: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        addEventListener: 'readonly',
        removeEventListener: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLSelectElement: 'readonly',
        HTMLVideoElement: 'readonly',
        MediaStream: 'readonly',
        Event: 'readonly',
        File: 'readonly',
      },
    },
  },
  prettier,
);
