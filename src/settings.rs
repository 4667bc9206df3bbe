//! The effective configuration: what one worker's plugin does, from Flex's
//! `custom_data` and that worker's TaskRouter attributes.
//!
//! One function for both sides: the browser's core (`session::startup`) and
//! the backend's policy (`recording-backend`'s `domain::policy`) call
//! `resolve`, so the backend applies exactly what the browser resolved.
//!
//! 1. The worker's `config_overrides` is merged over `custom_data` as the
//!    flex-project-template does (`merge`, lodash `merge`).
//! 2. The block is chosen on the merged document: the plugin's own
//!    `plugin_dual_channel_recording` when present, else the template's
//!    `features.dual_channel_recording` and `features.pause_recording`
//!    (`config::Block`).
//! 3. The recording settings (`config`) and the pause settings (`pause`) are
//!    read from that block; problems carry the block's paths.
//! 4. With the own block in use, a template feature that is on as well
//!    would record or pause a second time (the template reads its own keys
//!    whatever this plugin does): `conflicts`.

use crate::config::{self, Block, ConfigError, Setup};
use crate::document::Document;
use crate::merge::Merged;
use crate::pause::{self, PauseConfig};

/// The worker attribute the template reads per-worker settings from.
pub const OVERRIDES_KEY: &str = "config_overrides";

/// A flex-project-template feature that acts on its own beside this plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TemplateFeature {
    /// `features.dual_channel_recording`: the template records every call too.
    DualChannelRecording,
    /// `features.pause_recording`: the template's own Pause button and actions.
    PauseRecording,
}

impl TemplateFeature {
    /// The feature's key under `custom_data.features` (the metrics label).
    pub fn key(self) -> &'static str {
        match self {
            TemplateFeature::DualChannelRecording => config::FEATURE_KEY,
            TemplateFeature::PauseRecording => pause::PAUSE_FEATURE_KEY,
        }
    }

    pub const ALL: [TemplateFeature; 2] = [
        TemplateFeature::DualChannelRecording,
        TemplateFeature::PauseRecording,
    ];

    /// What goes wrong, and the fix, for an administrator.
    pub fn message(self) -> String {
        let key = self.key();
        let what = match self {
            TemplateFeature::DualChannelRecording => {
                "the template records every call as well, so each call is recorded twice"
            }
            TemplateFeature::PauseRecording => {
                "the template's own Pause button and actions run as well, and pause recordings this plugin does not track"
            }
        };
        format!(
            "custom_data.{} is in use and the flex-project-template's features.{key}.enabled is true too: {what}; set features.{key}.enabled to false",
            config::OWN_BLOCK
        )
    }
}

/// What one worker's plugin is configured to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The block the settings were read from.
    pub block: Block,
    pub recording: Setup,
    /// `Err`: pausing is inert, with every problem and its path.
    pub pause: Result<PauseConfig, Vec<ConfigError>>,
    /// Template features that act beside the own block, in `ALL`'s order.
    pub conflicts: Vec<TemplateFeature>,
    /// Whether the worker's `config_overrides` took part.
    pub overridden: bool,
}

/// The settings the browser acts on: `custom_data` with the worker's
/// overrides (`worker_attributes`: the worker's TaskRouter attributes, or
/// `None`), including where the backend is.
pub fn resolve<D: Document + Copy>(custom_data: D, worker_attributes: Option<D>) -> Settings {
    resolve_with(custom_data, worker_attributes, true)
}

/// The same, as the backend's policy reads them: without the backend's
/// location, which is the browser's concern (`config::parse_policy`).
pub fn resolve_policy<D: Document + Copy>(
    custom_data: D,
    worker_attributes: Option<D>,
) -> Settings {
    resolve_with(custom_data, worker_attributes, false)
}

/// The worker's `config_overrides` when it is an object. lodash merges
/// nothing that matters here from anything else (a string or an array
/// would only add keys `0`, `1`...; a number or boolean adds none).
pub fn overrides<D: Document + Copy>(worker_attributes: Option<D>) -> Option<D> {
    worker_attributes
        .and_then(|a| a.get(OVERRIDES_KEY))
        .filter(|o| o.is_object())
}

fn resolve_with<D: Document + Copy>(
    custom_data: D,
    worker_attributes: Option<D>,
    locate_backend: bool,
) -> Settings {
    let over = overrides(worker_attributes);
    let merged = Merged::new(custom_data, over);
    let block = Block::of(&merged);
    let recording = config::parse_block(&merged, block, locate_backend);
    let pause = pause::parse_block(&merged, block);
    let conflicts = match block {
        Block::Template => Vec::new(),
        Block::Own => TemplateFeature::ALL
            .into_iter()
            .filter(|f| {
                let template_on = merged
                    .get("features")
                    .and_then(|features| features.get(f.key()))
                    .and_then(|feature| feature.bool_at("enabled"))
                    == Some(true);
                let own_on = match f {
                    TemplateFeature::DualChannelRecording => {
                        matches!(recording, Setup::Enabled(_))
                    }
                    TemplateFeature::PauseRecording => pause.as_ref().is_ok_and(|p| p.enabled),
                };
                template_on && own_on
            })
            .collect(),
    };
    Settings {
        block,
        recording,
        pause,
        conflicts,
        overridden: over.is_some(),
    }
}

#[cfg(test)]
mod tests;
