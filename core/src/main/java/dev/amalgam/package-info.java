/**
 * The application API: {@link dev.amalgam.Amalgam} (the entry point that holds a backend across
 * merges), {@link dev.amalgam.MergeOptions}, progress and cancellation
 * ({@link dev.amalgam.MergeListener}), results ({@link dev.amalgam.MergedCheckpoint},
 * {@link dev.amalgam.MergeSummary}) and the one unchecked exception family
 * ({@link dev.amalgam.AmalgamException}).
 */
package dev.amalgam;
