package dev.amalgam.tensor;

import java.util.Arrays;

/**
 * Name, dtype and shape of one tensor; no data.
 *
 * <p>Thread-safety: immutable.
 *
 * @param name  tensor name
 * @param dtype storage dtype
 * @param shape dimensions, row-major (empty for a 0-D tensor)
 */
public record TensorInfo(String name, DType dtype, long[] shape) {

    /** Copies the shape. */
    public TensorInfo {
        shape = shape.clone();
    }
    /**
     * The dimensions.
     *
     * @return a copy of the shape
     */

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The number of dimensions.
     *
     * @return the rank
     */
    public int rank() {
        return shape.length;
    }

    /**
     * One dimension.
     *
     * @param i 0-based axis
     * @return its length
     */
    public long dim(int i) {
        return shape[i];
    }

    /** Element count; 1 for a 0-D tensor. */
    public long elementCount() {
        return elementCount(shape);
    }

    /**
     * The size in bytes.
     *
     * @return element count × dtype size
     */
    public long byteSize() {
        return Math.multiplyExact(elementCount(), (long) dtype.byteSize());
    }

    /**
     * Whether the shapes are equal.
     *
     * @param other another header
     * @return true if every dimension matches
     */
    public boolean sameShape(TensorInfo other) {
        return Arrays.equals(shape, other.shape);
    }

    /**
     * The element count of a shape.
     *
     * @param shape dimensions
     * @return their product (1 for a 0-D shape)
     */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /**
     * A shape as text.
     *
     * @param shape dimensions
     * @return e.g. {@code [4, 8]}
     */
    public static String shapeString(long[] shape) {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString(shape);
    }
}
