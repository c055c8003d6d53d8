package dev.amalgam.io;

import java.nio.file.Path;

/**
 * A safetensors file, index or model folder that breaks a rule of the format. Every rule has
 * its own {@link Violation}, so callers and tests can tell them apart without parsing messages;
 * the message names the file and, where there is one, the tensor.
 */
public final class SafetensorsFormatException extends AmalgamIOException {

    /** The rule that was broken. */
    public enum Violation {
        /** The 8-byte header length is above {@link SafetensorsHeader#MAX_HEADER_BYTES} (or negative as a signed value). */
        HEADER_TOO_LARGE,
        /** The file is shorter than the 8-byte length prefix plus the header it announces. */
        HEADER_TRUNCATED,
        /**
         * The header or index is not UTF-8, not JSON, not a JSON object, has trailing content, or
         * exceeds a parser limit (nesting depth, string or number length).
         */
        MALFORMED_JSON,
        /** The header (or index) lists more than {@link SafetensorsHeader#MAX_TENSORS} tensors. */
        TOO_MANY_TENSORS,
        /** A tensor name (or an index weight_map key) occurs twice. */
        DUPLICATE_NAME,
        /** A tensor entry lacks {@code dtype}, {@code shape} or {@code data_offsets}, or has them in the wrong form. */
        BAD_ENTRY,
        /** The dtype is not one of {@link dev.amalgam.tensor.DType}. */
        UNKNOWN_DTYPE,
        /** The element count or byte size of the shape overflows a 64-bit integer. */
        BAD_SHAPE,
        /** {@code end - begin} differs from element count × dtype size. */
        SIZE_MISMATCH,
        /** {@code begin > end}. */
        BAD_OFFSETS,
        /** {@code end} lies beyond the data section. */
        OFFSETS_OUT_OF_BOUNDS,
        /** Two tensors share bytes. */
        OFFSETS_OVERLAP,
        /** {@code __metadata__} is not a map of strings to strings. */
        BAD_METADATA,
        /** The index lacks a {@code weight_map} object of strings, or its {@code metadata} is not an object. */
        INDEX_MALFORMED,
        /** A shard file named in the index is absolute, contains {@code ..}, or resolves (through links) outside the folder. */
        SHARD_PATH_ESCAPES,
        /** A shard file named in the index does not exist or is not a regular file. */
        SHARD_MISSING,
        /** The index maps a tensor to a shard whose header does not list it. */
        INDEX_TENSOR_MISSING,
        /** A tensor is stored in two shards. */
        TENSOR_IN_TWO_SHARDS,
        /** A shard holds a tensor that the index does not list. */
        TENSOR_NOT_IN_INDEX,
        /** The folder holds no safetensors checkpoint. */
        NO_CHECKPOINT,
        /** The folder holds several *.safetensors files that do not form one checkpoint. */
        AMBIGUOUS_CHECKPOINT
    }

    private final Violation violation;
    private final String tensor;

    public SafetensorsFormatException(Violation violation, Path file, String tensor, String detail) {
        this(violation, file, tensor, detail, null);
    }

    public SafetensorsFormatException(Violation violation, Path file, String tensor, String detail, Throwable cause) {
        super(file, (tensor == null ? "" : "tensor '" + tensor + "': ") + detail + " [" + violation + "]", cause);
        this.violation = violation;
        this.tensor = tensor;
    }

    public Violation violation() {
        return violation;
    }

    /** The file (or folder) that breaks the rule. */
    public Path file() {
        return path();
    }

    /** The tensor concerned, or null when the violation is not about one tensor. */
    public String tensor() {
        return tensor;
    }
}
