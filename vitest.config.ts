import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    // Integration tests start real tools (nix-build, skopeo, podman, runc) and can take a while.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Type tests (`*.test-d.ts`) run through tsc, so a drifting public type fails `vitest run`.
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts'],
      // NOTE: this tsconfig includes only image-spec's type tests. A package that adds its own
      // needs a tsconfig that includes them too, or tsc never checks them and they pass unseen.
      tsconfig: 'packages/image-spec/tsconfig.typecheck.json',
    },
  },
});
