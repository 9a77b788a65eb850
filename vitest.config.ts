import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    // Integration tests start real tools (nix-build, skopeo, podman, runc) and can take a while.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
