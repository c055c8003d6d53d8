/**
 * LoRA: in-memory factorisation of a delta ({@link dev.amalgam.lora.LoraFactors}) and extraction
 * of a PEFT adapter folder ({@link dev.amalgam.lora.LoraExtraction}).
 */
package dev.amalgam.lora;
