import { defineConfig } from 'vitest/config';
import { backendProjects, sharedConfig } from '../../vitest.shared.mjs';

// One project per backend this host can run (vitest.shared.mjs, from the backend table).
export default defineConfig(sharedConfig(import.meta.dirname, { projects: backendProjects() }));
