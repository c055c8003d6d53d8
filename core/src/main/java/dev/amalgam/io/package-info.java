/**
 * Safetensors I/O: validated reading of single files and sharded Hugging Face checkpoints
 * (zero-copy mapped views, or reads through the file into staging buffers that survive inputs
 * changing underneath), and an all-or-nothing sharded writer whose tensors are filled in place
 * through writable mappings of reserved files, that never replaces an input or a folder it did
 * not write, and that repairs what killed writers left behind.
 *
 * <ul>
 *   <li>{@link dev.amalgam.io.SafetensorsHeader}: the binary layout (descriptor constants), strict
 *       parsing of untrusted headers, and encoding byte-identical to the safetensors crate.</li>
 *   <li>{@link dev.amalgam.io.SafetensorsFile}: one mapped file; {@code tensor(name)} is a view.</li>
 *   <li>{@link dev.amalgam.io.ModelFolder}: a whole checkpoint (index, single file, or shard set).</li>
 *   <li>{@link dev.amalgam.io.ShardPlan} and {@link dev.amalgam.io.ShardWriter}: output sharding,
 *       temporary folder, index, copied config/tokenizer files, atomic rename.</li>
 *   <li>{@link dev.amalgam.io.SafetensorsFormatException}: every broken rule, typed by
 *       {@link dev.amalgam.io.SafetensorsFormatException.Violation}, naming file and tensor.</li>
 * </ul>
 */
package dev.amalgam.io;
