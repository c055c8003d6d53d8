/**
 * Tokenizer merges with mergekit's semantics: the output vocabulary ({@code tokenizer_source: union}
 * or the {@code tokenizer:} section, {@link dev.amalgam.source.tokenizer.TokenizerSpec}), each model's
 * embedding and LM-head rows permuted to it ({@link dev.amalgam.source.tokenizer.VocabularyMerge}),
 * the output's tokenizer files ({@link dev.amalgam.source.tokenizer.TokenizerOutput}) and chat
 * templates (spec §16.5, {@link dev.amalgam.source.tokenizer.ChatTemplates}).
 */
package dev.amalgam.source.tokenizer;
