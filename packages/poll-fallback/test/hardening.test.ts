import { describeHardening } from '@async-io/conformance';

describeHardening({ modulePath: require.resolve('@async-io/poll-fallback') });
