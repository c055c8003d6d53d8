/**
 * Merge configurations: {@link dev.amalgam.config.MergeConfig} from mergekit-style YAML or from
 * {@link dev.amalgam.config.MergeConfigBuilder}, validated by one validator; the method table
 * ({@link dev.amalgam.config.MethodRegistry}) and per-tensor parameter lookup.
 */
package dev.amalgam.config;
