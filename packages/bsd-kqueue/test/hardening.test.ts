import { describeHardening } from '@async-io/conformance';

// The hardening suite against the real mechanism file on the emulated kernel.
describeHardening({ modulePath: require.resolve('./emulated.cjs') });
