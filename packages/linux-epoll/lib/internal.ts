/**
 * @async-io/linux-epoll/internal — the epoll backend with its raw addon (`native`), the
 * file it loaded (`binary`) and `adopt()`, for @async-io/reactor and this
 * repository's tests only; no semver promise. The published API is the
 * package's index.
 */
import path from 'node:path';
import { defineBackend } from '@async-io/backend-core/internal';

export = defineBackend(path.join(__dirname, '..'));
