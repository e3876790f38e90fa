/**
 * The repository tests its TypeScript sources, never a build: `import 'streamrun'` (a
 * self-import) resolves through package.json's `streamrun-source` export condition to lib/*.ts.
 * Vite's default server conditions stay, after ours.
 */
const conditions = ['streamrun-source', 'module', 'node', 'development|production'];

export const sourceResolution = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
};
