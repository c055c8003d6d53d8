/**
 * What a merge does to its inputs, in numbers and as a page: per-tensor task-vector statistics
 * ({@link dev.amalgam.analysis.TaskVectorStatistics}: norms, pairwise dots, sign conflicts, the
 * merge's change against base and inputs, all in float64), their summaries per layer and tensor
 * kind ({@link dev.amalgam.analysis.MergeAnalysis}), and the self-contained HTML report
 * ({@link dev.amalgam.analysis.HtmlReport}) behind {@code amalgam merge --report FILE.html} and
 * {@code amalgam analyze}. Obtain an analysis from {@code Amalgam.analyze} or a merge run with
 * {@code MergeOptions.builder().analysis(true)}.
 *
 * <p>Thread-safety: the records are immutable (their arrays are not copied on access: do not
 * modify them); {@link dev.amalgam.analysis.HtmlReport} and
 * {@link dev.amalgam.analysis.TaskVectorStatistics} are stateless.
 */
package dev.amalgam.analysis;
