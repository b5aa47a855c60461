import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.mjs';

// One file, run in order: the registry and the packed tarballs are set up once.
export default defineConfig(sharedConfig(import.meta.dirname, { testTimeout: 300_000, hookTimeout: 600_000, fileParallelism: false }));
