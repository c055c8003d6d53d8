package dev.amalgam.kernel.svd;

import java.util.Arrays;

/**
 * A dense row-major float32 matrix on the heap: what the SVD kernels take and return.
 * Element (i, j) is {@code data[i * cols + j]}. The array is shared, not copied.
 */
public record FloatMatrix(int rows, int cols, float[] data) {

    /** Checks the shape against the array length. */
    public FloatMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + cols);
        if (data.length != (long) rows * cols) {
            throw new IllegalArgumentException("a " + rows + "×" + cols + " matrix needs " + (long) rows * cols
                    + " elements, got " + data.length);
        }
    }

    /**
     * A heap copy of a 2-D tensor (any floating dtype, e.g. a segment the caller owns), for the
     * SVD kernels, which work on heap matrices: this copies once in float32.
     *
     * @param t a 2-D tensor
     * @return rows = dim 0, cols = dim 1
     * @throws IllegalArgumentException if the tensor is not 2-D or too large for one array
     */
    public static FloatMatrix copyOf(dev.amalgam.tensor.Tensor t) {
        if (t.info().rank() != 2) throw new IllegalArgumentException("tensor " + t.name() + " is not 2-D: " + t.info());
        int rows = Math.toIntExact(t.info().dim(0)), cols = Math.toIntExact(t.info().dim(1));
        float[] d = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < d.length; i++) d[i] = t.getFloat(i);
        return new FloatMatrix(rows, cols, d);
    }

    /**
     * Stores this matrix into a tensor of the same element count (rounding to its dtype).
     *
     * @param t the destination, F32/F16/BF16, rows × cols elements
     */
    public void copyTo(dev.amalgam.tensor.Tensor t) {
        if (t.elementCount() != data.length) {
            throw new IllegalArgumentException("tensor " + t.name() + " has " + t.elementCount() + " elements, the matrix " + data.length);
        }
        for (int i = 0; i < data.length; i++) t.setFloat(i, data[i]);
    }

    /**
     * A matrix of zeros.
     *
     * @param rows rows
     * @param cols columns
     * @return the matrix
     */
    public static FloatMatrix zeros(int rows, int cols) {
        return new FloatMatrix(rows, cols, new float[Math.multiplyExact(rows, cols)]);
    }

    /** A matrix from rows of values (tests, small cases). */
    public static FloatMatrix of(float[]... rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] d = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != cols) throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, not " + cols);
            System.arraycopy(rows[i], 0, d, i * cols, cols);
        }
        return new FloatMatrix(rows.length, cols, d);
    }

    /**
     * Element (i, j).
     *
     * @param i row
     * @param j column
     * @return the value
     */
    public float get(int i, int j) {
        return data[i * cols + j];
    }

    /**
     * Sets element (i, j).
     *
     * @param i row
     * @param j column
     * @param v the value
     */
    public void set(int i, int j, float v) {
        data[i * cols + j] = v;
    }

    /** min(rows, cols): the rank bound and the length of a thin SVD's S. */
    public int minDim() {
        return Math.min(rows, cols);
    }

    /**
     * The transpose, as a new matrix.
     *
     * @return cols × rows
     */
    public FloatMatrix transpose() {
        float[] t = new float[data.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
        }
        return new FloatMatrix(cols, rows, t);
    }

    /**
     * A deep copy.
     *
     * @return the copy
     */
    public FloatMatrix copy() {
        return new FloatMatrix(rows, cols, data.clone());
    }

    /** Columns [from, to) as a new matrix. */
    public FloatMatrix columns(int from, int to) {
        FloatMatrix out = zeros(rows, to - from);
        for (int i = 0; i < rows; i++) System.arraycopy(data, i * cols + from, out.data, i * out.cols, to - from);
        return out;
    }

    /** Rows [from, to) as a new matrix. */
    public FloatMatrix rowRange(int from, int to) {
        return new FloatMatrix(to - from, cols, Arrays.copyOfRange(data, from * cols, to * cols));
    }

    /** Frobenius norm, accumulated in double. */
    public double frobenius() {
        double s = 0;
        for (float v : data) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** Largest |element|; NaN if any element is NaN. */
    public float maxAbs() {
        float m = 0;
        for (float v : data) {
            if (Float.isNaN(v)) return Float.NaN;
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Whether no element is NaN or infinite.
     *
     * @return true if all are finite
     */
    public boolean allFinite() {
        for (float v : data) if (!Float.isFinite(v)) return false;
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatMatrix m && m.rows == rows && m.cols == cols && Arrays.equals(m.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rows + cols) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatMatrix[" + rows + "×" + cols + "]";
    }
}
