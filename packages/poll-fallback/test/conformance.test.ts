import { describeConformance } from '@async-io/conformance';

describeConformance({ modulePath: require.resolve('@async-io/poll-fallback') });
