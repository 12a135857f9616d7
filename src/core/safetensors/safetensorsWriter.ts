/**
 * safetensors writer, laid out as huggingface/safetensors `serialize` does (`safetensors/src/tensor.rs`, `prepare`):
 * 8-byte little-endian header length, the JSON header padded with spaces to a multiple of 8 (so that the data buffer
 * starts 8-byte aligned), then the tensors' data back to back. Tensors are written in the order given.
 */
import { open, rename, rm } from "node:fs/promises";
import { throwIfAborted } from "../errors";
import { safetensorsDtypeBits, type SafetensorsDtype } from "./safetensorsDtypes";
import { SAFETENSORS_METADATA_KEY } from "./safetensorsHeader";
import { tempSiblingPath } from "../fs/tempSibling";

/** Tensor data produced piece by piece (the same shape as the GGUF writer's data sources). */
export interface SafetensorsTensorDataSource {
  readonly byteLength: number;
  chunks(): AsyncIterable<Uint8Array>;
}

export interface SafetensorsTensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  /** Row-major, outermost dimension first. */
  readonly shape: readonly number[];
  /** Little-endian element bytes. */
  readonly data: Uint8Array | SafetensorsTensorDataSource;
}

export interface SafetensorsWriteOptions {
  /** `__metadata__`, e.g. `{ format: "pt" }` as transformers writes. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (writtenBytes: number, totalBytes: number) => void;
}

/** The 8-byte length and padded JSON header for these tensors; throws on names, shapes or sizes that do not agree. */
export function encodeSafetensorsHeader(tensors: readonly SafetensorsTensorToWrite[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header[SAFETENSORS_METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === SAFETENSORS_METADATA_KEY) throw new Error(`"${SAFETENSORS_METADATA_KEY}" is not a valid tensor name`);
    if (Object.prototype.hasOwnProperty.call(header, tensor.name)) throw new Error(`duplicate tensor name "${tensor.name}"`);
    const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
    const bits = elements * safetensorsDtypeBits(tensor.dtype);
    if (bits % 8 !== 0 || bits / 8 !== tensor.data.byteLength) {
      throw new Error(`tensor "${tensor.name}": shape [${tensor.shape.join(", ")}] × ${tensor.dtype} needs ${bits / 8} bytes, data has ${tensor.data.byteLength}`);
    }
    // defineProperty, not assignment: a tensor named "__proto__" must become a key, not the object's prototype.
    Object.defineProperty(header, tensor.name, {
      value: { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + tensor.data.byteLength] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += tensor.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** A whole safetensors file in memory (tests, small fixtures). */
export function encodeSafetensors(
  tensors: readonly (SafetensorsTensorToWrite & { readonly data: Uint8Array })[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header = encodeSafetensorsHeader(tensors, metadata);
  const out = new Uint8Array(header.byteLength + tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0));
  out.set(header, 0);
  let offset = header.byteLength;
  for (const tensor of tensors) {
    out.set(tensor.data, offset);
    offset += tensor.data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file to `<name>.tmp-<random>` in the same folder and renames it over `filePath` when complete;
 * the temp file is removed on any error or abort. Streamed tensors must yield exactly `byteLength` bytes.
 */
export async function writeSafetensorsFile(filePath: string, tensors: readonly SafetensorsTensorToWrite[], options: SafetensorsWriteOptions = {}): Promise<void> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const header = encodeSafetensorsHeader(tensors, options.metadata);
  const total = header.byteLength + tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const tempPath = tempSiblingPath(filePath);
  const handle = await open(tempPath, "wx");
  let closed = false;
  try {
    let position = 0;
    const write = async (bytes: Uint8Array): Promise<void> => {
      for (let done = 0; done < bytes.byteLength; ) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
      onProgress?.(position, total);
    };
    await write(header);
    for (const tensor of tensors) {
      throwIfAborted(signal);
      if (tensor.data instanceof Uint8Array) {
        await write(tensor.data);
        continue;
      }
      const start = position;
      for await (const chunk of tensor.data.chunks()) {
        throwIfAborted(signal);
        if (position - start + chunk.byteLength > tensor.data.byteLength) throw new Error(`tensor "${tensor.name}": data source yielded more than ${tensor.data.byteLength} bytes`);
        await write(chunk);
      }
      if (position - start !== tensor.data.byteLength) throw new Error(`tensor "${tensor.name}": data source yielded ${position - start} of ${tensor.data.byteLength} bytes`);
    }
    await handle.close();
    closed = true;
    await rename(tempPath, filePath);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw error;
  }
}
