package dev.amalgam.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A parameter value as written in the YAML, evaluated per tensor (spec §1.1 "Value forms",
 * mergekit's {@code evaluate_setting}).
 *
 * <p>Implementation notes: immutable, parsed once. {@link #evaluate} returns a {@link Double},
 * {@link Long}, {@link Boolean} or {@link String}, or null when a filtered list has no matching
 * entry (the lookup then continues at the next level). Gradients interpolate in double exactly
 * as s = t·(L−1), i0 = (int)s, i1 = min(L−1, i0+1), f = s−i0, (1−f)·v[i0] + f·v[i1]; t is
 * not clamped (callers pass t ∈ [0, 1]), but indices are kept in range.
 */
public sealed interface ParameterValue permits ParameterValue.Scalar, ParameterValue.Gradient, ParameterValue.Filtered {

    /** The value for a tensor at layer position t, or null if unset at this level. */
    Object evaluate(String tensorName, double t);

    /** True if the value can differ between tensors (a gradient or filtered list anywhere). */
    boolean variesByTensor();

    /** A number (Double or Long), bool or string, the same for every tensor. */
    final class Scalar implements ParameterValue {
        private final Object value;

        public Scalar(Object value) {
            Objects.requireNonNull(value, "value");
            if (value instanceof Number n && !(n instanceof Long)) value = n.doubleValue();
            else if (value instanceof Number n) value = n.longValue();
            else if (!(value instanceof Boolean) && !(value instanceof String)) {
                throw new IllegalArgumentException("not a scalar: " + value.getClass().getName());
            }
            this.value = value;
        }

        public Object value() {
            return value;
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            return value;
        }

        @Override
        public boolean variesByTensor() {
            return false;
        }

        @Override
        public String toString() {
            return String.valueOf(value);
        }
    }

    /** A list of points over layer depth: numbers interpolate, other values are picked by index. */
    final class Gradient implements ParameterValue {
        private final List<Object> points;
        private final double[] numbers; // null for a list of non-numbers

        public Gradient(List<?> points) {
            if (points.isEmpty()) throw new IllegalArgumentException("a gradient needs at least one point");
            List<Object> copy = new ArrayList<>(points.size());
            boolean numeric = points.getFirst() instanceof Number;
            for (Object p : points) {
                Objects.requireNonNull(p, "gradient point");
                if ((p instanceof Number) != numeric) {
                    throw new IllegalArgumentException("a gradient mixes numbers and non-numbers: " + points);
                }
                copy.add(p instanceof Number n ? (Object) n.doubleValue() : p);
            }
            this.points = List.copyOf(copy);
            if (numeric) {
                numbers = new double[copy.size()];
                for (int i = 0; i < numbers.length; i++) numbers[i] = (Double) copy.get(i);
            } else {
                numbers = null;
            }
        }

        public List<Object> points() {
            return points;
        }

        public boolean numeric() {
            return numbers != null;
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            int last = points.size() - 1;
            if (numbers == null) {
                return points.get(clamp((int) (t * last), last));
            }
            double s = t * last;
            int i0 = clamp((int) s, last);
            int i1 = Math.min(last, i0 + 1);
            double f = s - i0;
            return (1 - f) * numbers[i0] + f * numbers[i1];
        }

        private static int clamp(int i, int last) {
            return Math.max(0, Math.min(last, i));
        }

        @Override
        public boolean variesByTensor() {
            return points.size() > 1;
        }

        @Override
        public String toString() {
            return points.toString();
        }
    }

    /** A list of {filter, value}: the first entry whose filter matches the tensor name wins. */
    final class Filtered implements ParameterValue {
        /**
         * One entry; {@code filter} null or "*" matches every tensor, anything else matches
         * names containing it (case-sensitive).
         */
        public record Entry(String filter, ParameterValue value) {
            public Entry {
                Objects.requireNonNull(value, "value");
            }

            public boolean matches(String tensorName) {
                return filter == null || filter.equals("*") || tensorName.contains(filter);
            }
        }

        private final List<Entry> entries;

        public Filtered(List<Entry> entries) {
            if (entries.isEmpty()) throw new IllegalArgumentException("a filtered list needs at least one entry");
            this.entries = List.copyOf(entries);
        }

        public List<Entry> entries() {
            return entries;
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            for (Entry e : entries) {
                if (e.matches(tensorName)) return e.value().evaluate(tensorName, t);
            }
            return null;
        }

        /** Constant only if the first entry matches every tensor and its value is constant. */
        @Override
        public boolean variesByTensor() {
            Entry first = entries.getFirst();
            return !(first.matches("") && !first.value().variesByTensor());
        }

        @Override
        public String toString() {
            return entries.toString();
        }
    }
}
