package dev.amalgam.analysis;

import java.util.List;
import java.util.Locale;

/** Inline SVG charts for the HTML report: no scripts, no external resources; native tooltips via {@code <title>}. */
final class Svg {

    static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

    /** One line of a chart: a name and a y value per x position (NaN = gap). */
    record Series(String name, double[] y, boolean dashed) {
        Series(String name, double[] y) {
            this(name, y, false);
        }
    }

    private Svg() {
    }

    static String color(int i) {
        return PALETTE[i % PALETTE.length];
    }

    /** A line chart over layer indices {@code x}. */
    static String lineChart(String ariaLabel, int[] x, List<Series> series, String yLabel, boolean percent) {
        int w = 720, h = 260, left = 64, right = 16, top = 14, bottom = 36;
        double max = 0, min = 0;
        for (Series s : series) {
            for (double v : s.y()) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                    min = Math.min(min, v);
                }
            }
        }
        if (max == min) max = min + 1;
        max = niceCeil(max);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">", w, h, Html.esc(ariaLabel)));
        double pw = w - left - right, ph = h - top - bottom;
        int n = x.length;
        double finalMax = max, finalMin = min;
        java.util.function.DoubleUnaryOperator yPos = v -> top + ph - (v - finalMin) / (finalMax - finalMin) * ph;
        java.util.function.IntToDoubleFunction xPos = i -> left + (n <= 1 ? pw / 2 : i * pw / (n - 1));
        for (int g = 0; g <= 4; g++) {
            double v = min + (max - min) * g / 4;
            double y = yPos.applyAsDouble(v);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", left, w - right, y, y));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>", left - 6, y + 4, fmt(v, percent)));
        }
        int step = Math.max(1, n / 16);
        for (int i = 0; i < n; i += step) {
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%d</text>", xPos.applyAsDouble(i), h - bottom + 16, x[i]));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">layer</text>", left + pw / 2, h - 4));
        sb.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 12 %.1f)\">%s</text>",
                top + ph / 2, top + ph / 2, Html.esc(yLabel)));
        for (int s = 0; s < series.size(); s++) {
            Series ser = series.get(s);
            StringBuilder path = new StringBuilder();
            boolean pen = false;
            for (int i = 0; i < n && i < ser.y().length; i++) {
                double v = ser.y()[i];
                if (!Double.isFinite(v)) {
                    pen = false;
                    continue;
                }
                path.append(pen ? " L" : " M").append(String.format(Locale.ROOT, "%.1f %.1f", xPos.applyAsDouble(i), yPos.applyAsDouble(v)));
                pen = true;
            }
            sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s><title>%s</title></path>",
                    path.toString().trim(), color(s), ser.dashed() ? " stroke-dasharray=\"5 4\"" : "", Html.esc(ser.name())));
            if (n <= 64) {
                for (int i = 0; i < n && i < ser.y().length; i++) {
                    double v = ser.y()[i];
                    if (!Double.isFinite(v)) continue;
                    sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s, layer %d: %s</title></circle>",
                            xPos.applyAsDouble(i), yPos.applyAsDouble(v), color(s), Html.esc(ser.name()), x[i], fmt(v, percent)));
                }
            }
        }
        sb.append("</svg>");
        sb.append(legend(series));
        return sb.toString();
    }

    static String legend(List<Series> series) {
        StringBuilder sb = new StringBuilder("<div class=\"legend\">");
        for (int s = 0; s < series.size(); s++) {
            sb.append("<span><i style=\"background:").append(color(s)).append("\"></i>").append(Html.esc(series.get(s).name())).append("</span>");
        }
        return sb.append("</div>").toString();
    }

    /**
     * A heatmap of {@code values[row][col]} in [−1, 1] (blue = −1, white = 0, red = +1); NaN is grey.
     */
    static String heatmap(String ariaLabel, List<String> rows, List<String> cols, double[][] values) {
        int cell = Math.max(10, Math.min(56, 640 / Math.max(1, cols.size())));
        int rowH = Math.max(6, Math.min(22, 640 / Math.max(1, rows.size())));
        int longest = cols.stream().mapToInt(c -> Math.min(30, c.length())).max().orElse(4);
        int left = 120, top = 20 + (int) (longest * 4.6);
        int w = left + cell * cols.size() + 10, h = top + rowH * rows.size() + 10;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg class=\"heatmap\" viewBox=\"0 0 %d %d\" width=\"%d\" role=\"img\" aria-label=\"%s\">", w, h, w, Html.esc(ariaLabel)));
        for (int c = 0; c < cols.size(); c++) {
            double x = left + c * cell + cell / 2.0;
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" transform=\"rotate(-45 %.1f %d)\">%s</text>",
                    x, top - 6, x, top - 6, Html.esc(shorten(cols.get(c), 30))));
        }
        for (int r = 0; r < rows.size(); r++) {
            double y = top + r * rowH;
            if (rowH >= 10 || r % Math.max(1, 10 / rowH) == 0) {
                sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>", left - 6, y + rowH * 0.75, Html.esc(shorten(rows.get(r), 18))));
            }
            for (int c = 0; c < cols.size(); c++) {
                double v = values[r][c];
                String text = Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
                sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"><title>%s × %s: %s</title></rect>",
                        left + c * cell, y, cell, rowH, diverging(v), Html.esc(rows.get(r)), Html.esc(cols.get(c)), text));
                if (cell >= 34 && rowH >= 12) {
                    sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" class=\"cell\" text-anchor=\"middle\">%s</text>",
                            left + c * cell + cell / 2.0, y + rowH * 0.72, text));
                }
            }
        }
        sb.append("</svg>");
        sb.append("<div class=\"scale\"><span>−1</span><i class=\"ramp\"></i><span>+1</span></div>");
        return sb.toString();
    }

    /** Blue (−1) → white (0) → red (+1). */
    static String diverging(double v) {
        if (!Double.isFinite(v)) return "#bbbbbb";
        double t = Math.max(-1, Math.min(1, v));
        int r, g, b;
        if (t >= 0) {
            r = 255;
            g = (int) Math.round(255 - 200 * t);
            b = (int) Math.round(255 - 220 * t);
        } else {
            r = (int) Math.round(255 + 220 * t);
            g = (int) Math.round(255 + 150 * t);
            b = 255;
        }
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, b);
    }

    static String fmt(double v, boolean percent) {
        if (!Double.isFinite(v)) return "n/a";
        if (percent) return String.format(Locale.ROOT, "%.1f%%", 100 * v);
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e4)) return String.format(Locale.ROOT, "%.2e", v);
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static double niceCeil(double v) {
        if (v <= 0) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) return m * p;
        }
        return 10 * p;
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : "…" + s.substring(s.length() - max + 1);
    }
}
