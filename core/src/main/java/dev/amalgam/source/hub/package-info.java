/**
 * Hugging Face Hub ids as merge inputs: {@link dev.amalgam.source.hub.HubId} ({@code org/name[@revision]}),
 * the local cache in {@code huggingface_hub}'s layout ({@link dev.amalgam.source.hub.HubCache}), the
 * variables that locate it ({@link dev.amalgam.source.hub.HubSettings}), and the downloader that fills it
 * with just the files a merge needs ({@link dev.amalgam.source.hub.HubDownloader}).
 */
package dev.amalgam.source.hub;
