// Generated messages of containerd 1.6's shim protocol (npm run gen:proto rewrites gen/ from the .proto
// files here) and the helpers to use them. Import from here, not from gen/.
export { create, toBinary, fromBinary, clone, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
export { type Any, type Timestamp, TimestampSchema, timestampDate, timestampFromDate, timestampFromMs, timestampNow, EmptySchema } from '@bufbuild/protobuf/wkt';
export * from './gen/containerd/task/v2/shim_pb';
export * from './gen/containerd/types/mount_pb';
export * from './gen/containerd/types/task/task_pb';
export * from './gen/containerd/events/task_pb';
export * from './gen/containerd/runc/v1/oci_pb';
// cgroups' Metrics (13 KB of descriptor to boot) is loaded by Stats only: service/metrics.ts imports it.
export { Events, EnvelopeSchema, ForwardRequestSchema, type Envelope, type ForwardRequest } from './gen/containerd/services/events/ttrpc/v1/events_pb';
export * from './any';
