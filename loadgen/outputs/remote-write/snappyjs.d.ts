// snappyjs 0.7.0 ships no types: the two functions remote-write uses (Snappy block format).
declare module 'snappyjs' {
  const snappy: {
    compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
    uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
  };
  export = snappy;
}
