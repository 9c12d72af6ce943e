import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';
import { sortedLabels, type Labels } from './series.js';

// Prometheus remote-write 1.0 body: a prompb.WriteRequest, Snappy block-compressed. The three
// messages are small enough to lay out by hand with protobufjs' Writer:
//   WriteRequest { repeated TimeSeries timeseries = 1; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }  // timestamp in ms

const { Writer } = protobuf;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const tag = (field: number, wireType: number) => (field << 3) | wireType;

/** Prometheus' staleness marker is one exact NaN, 0x7ff0000000000002, as two little-endian words. */
export const STALE_NAN_HIGH = 0x7ff00000;
export const STALE_NAN_LOW = 0x00000002;

/** Encodes one sample per series at `timestampMs`; with `stale`, every value is the staleness marker. */
export function encodeWriteRequest(
  series: readonly { labels: Labels; value?: number }[],
  timestampMs: number,
  options: { stale?: boolean } = {},
): Uint8Array {
  const writer = Writer.create();
  for (const one of series) {
    writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
    for (const [name, value] of sortedLabels(one.labels)) {
      writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
      writer.uint32(tag(1, LENGTH_DELIMITED)).string(name);
      writer.uint32(tag(2, LENGTH_DELIMITED)).string(value);
      writer.ldelim();
    }
    writer.uint32(tag(2, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, FIXED64));
    // A JS NaN may lose its payload on the way through a Float64Array, so the marker's
    // 8 bytes are written as they are rather than as a double.
    if (options.stale) writer.fixed32(STALE_NAN_LOW).fixed32(STALE_NAN_HIGH);
    else writer.double(one.value ?? Number.NaN);
    writer.uint32(tag(2, VARINT)).int64(timestampMs);
    writer.ldelim();
    writer.ldelim();
  }
  return writer.finish();
}

/** Snappy block format (not the framed/stream format), which remote-write requires. */
export function compress(bytes: Uint8Array): Uint8Array {
  return snappy.compress(bytes);
}
