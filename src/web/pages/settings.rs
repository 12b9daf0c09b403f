//! The instance settings page (`/admin/settings`). Administrators change the run-time settings
//! there (the instance's name and texts, sign-up, new users' quotas, the AV1 ladder) through the
//! same `service::settings::change_as` as `PUT /api/v1/config/custom`, and can restore the file's
//! values. Moderators see the settings without the form. The settings that need the file and a
//! restart are listed below, read-only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::config::Config;
use crate::http::AppState;
use crate::http::extract::blocking;
use crate::model::user::User;
use crate::service::rights;
use crate::service::settings::{self, PEERTUBE_RUNGS};
use crate::web::page::{Chrome, PageError, PageForm, form_status, respond};
use crate::web::pages::account::{NsfwOption, nsfw_options};
use crate::web::pages::admin::{admin, refusal};
use crate::web::pages::login::see_other;
use crate::web::pages::upload::size;
use crate::web::session::Visitor;

const HERE: &str = "/admin/settings";

/// A setting that needs the file and a restart, as the page shows it.
pub struct Fixed {
    pub key: &'static str,
    pub value: String,
    pub about: &'static str,
}

/// One ladder rung's checkbox.
pub struct Rung {
    pub height: u32,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    /// The values shown: those in force, or those just sent when they were refused.
    c: Arc<Config>,
    /// Administrators get the form; moderators see the values.
    editable: bool,
    overridden: Vec<&'static str>,
    nsfw: Vec<NsfwOption>,
    rungs: Vec<Rung>,
    fixed: Vec<Fixed>,
    problem: Option<String>,
    flash: Option<&'static str>,
    error: Option<String>,
}

impl SettingsPage {
    /// Whether `key` is set here rather than by the file (the template marks it).
    fn changed(&self, key: &str) -> bool {
        self.overridden.contains(&key)
    }

    /// `jobs.max_queued_secs_per_user` in whole minutes (-1 stays -1).
    fn queued_minutes(&self) -> i64 {
        match self.c.jobs.max_queued_secs_per_user {
            s if s < 0 => -1,
            s => s.div_euclid(60),
        }
    }

    fn quota(&self, bytes: &i64) -> String {
        match *bytes {
            b if b < 0 => "no limit".to_owned(),
            b => size(b.unsigned_abs()),
        }
    }
}

/// The checkboxes: PeerTube's usual rungs and any other the ladder has.
fn rungs(resolutions: &[u32]) -> Vec<Rung> {
    let mut all: Vec<u32> = PEERTUBE_RUNGS.to_vec();
    all.extend(resolutions.iter().filter(|r| !PEERTUBE_RUNGS.contains(r)));
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.into_iter()
        .map(|height| Rung {
            height,
            on: resolutions.contains(&height),
        })
        .collect()
}

/// The settings only the file sets, that hosters most often look for.
fn fixed(c: &Config) -> Vec<Fixed> {
    vec![
        Fixed {
            key: "server.public_url",
            value: c.public_url(),
            about: "The address links and federation use",
        },
        Fixed {
            key: "uploads.max_file_bytes",
            value: size(c.uploads.max_file_bytes),
            about: "Largest video file accepted",
        },
        Fixed {
            key: "jobs.workers",
            value: c.jobs.workers.to_string(),
            about: "Media jobs run at once",
        },
        Fixed {
            key: "transcoding.speed",
            value: c.transcoding.speed.to_string(),
            about: "rav1e's speed preset (0 slowest to 10 fastest)",
        },
        Fixed {
            key: "storage.data_dir",
            value: c.storage.data_dir.display().to_string(),
            about: "Where the store, media and search index live",
        },
    ]
}

fn page(
    state: &AppState,
    visitor: &Visitor,
    me: &User,
    shown: Arc<Config>,
    flash: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let settings = &state.core.settings;
    let overridden = crate::service::settings::EDITABLE
        .iter()
        .copied()
        .filter(|k| settings.is_overridden(k))
        .collect();
    let t = SettingsPage {
        chrome: Chrome::new(state, visitor, "Instance settings", HERE),
        editable: rights::can_manage_configuration(me),
        overridden,
        nsfw: nsfw_options(&shown.instance.default_nsfw_policy),
        rungs: rungs(&shown.transcoding.resolutions),
        fixed: fixed(&shown),
        problem: settings.problem(),
        c: shown,
        flash,
        error: error.clone(),
    };
    respond(visitor, form_status(&error), &t)
}

/// The sender of a settings form, if they may change the settings.
fn administrator(visitor: &Visitor, csrf: &str) -> Result<User, PageError> {
    let me = visitor.form_sender(csrf, HERE)?;
    match rights::can_manage_configuration(&me) {
        true => Ok(me),
        false => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Only administrators can change the instance's settings.",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let Some(me) = admin(&visitor) else {
        return Ok(refusal(&visitor, HERE));
    };
    let flash = match q.done.as_deref() {
        Some("saved") => Some("The settings are saved and in force."),
        Some("restored") => Some("The configuration file's values are in force again."),
        _ => None,
    };
    let shown = state.core.config();
    Ok(page(&state, &visitor, &me, shown, flash, None))
}

/// The form's fields by name. Checkboxes are sent only when ticked, and the rungs are one field
/// each (`rung=720`), hence pairs rather than a struct.
struct Sent(Vec<(String, String)>);

impl Sent {
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, String> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{what} must be a whole number.")),
        }
    }

    /// The configuration `shown` with the form's values, or what is wrong with them.
    fn apply(&self, c: &mut Config) -> Result<(), String> {
        let i = &mut c.instance;
        i.name = self
            .text("name")
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        i.short_description = self.text("short_description").unwrap_or_default();
        i.description = self.text("description").unwrap_or_default();
        i.terms = self.text("terms").unwrap_or_default();
        if let Some(p) = self.text("default_nsfw_policy") {
            i.default_nsfw_policy = p;
        }
        c.signup.enabled = self.ticked("signup_enabled");
        c.transcoding.enabled = self.ticked("transcoding_enabled");
        c.transcoding.web_videos = self.ticked("web_videos");
        let mut ladder = Vec::new();
        for (k, v) in &self.0 {
            if k == "rung" {
                let h = v.parse().map_err(|_| format!("{v:?} is not a height."))?;
                ladder.push(h);
            }
        }
        ladder.sort_unstable_by(|a: &u32, b| b.cmp(a));
        ladder.dedup();
        c.transcoding.resolutions = ladder;
        let limit = self.number("signup_limit", "The sign-up limit")?;
        c.signup.limit = limit.unwrap_or(c.signup.limit);
        let age = self.number("minimum_age", "The minimum age")?;
        c.signup.minimum_age = age.unwrap_or(c.signup.minimum_age);
        let quota = self.number("video_quota", "The video quota")?;
        c.user.video_quota = quota.unwrap_or(c.user.video_quota);
        let daily = self.number("video_quota_daily", "The daily video quota")?;
        c.user.video_quota_daily = daily.unwrap_or(c.user.video_quota_daily);
        let uploads =
            self.number::<i64>("max_concurrent_uploads", "The uploads in progress at once")?;
        if let Some(n) = uploads {
            c.uploads.max_concurrent_per_user = u32::try_from(n)
                .map_err(|_| "The uploads in progress at once must be 1 or more.".to_owned())?;
        }
        let queued =
            self.number::<i64>("max_queued_minutes", "The video waiting to be processed")?;
        if let Some(minutes) = queued {
            c.jobs.max_queued_secs_per_user = if minutes < 0 {
                minutes
            } else {
                minutes.saturating_mul(60)
            };
        }
        Ok(())
    }
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sent = Sent(pairs);
    let me = administrator(&visitor, &sent.text("csrf").unwrap_or_default())?;
    // What the administrator sent, shown again if it is refused, so nothing typed is lost.
    let mut shown = (*state.core.config()).clone();
    if let Err(message) = sent.apply(&mut shown) {
        return Ok(page(
            &state,
            &visitor,
            &me,
            Arc::new(shown),
            None,
            Some(message),
        ));
    }
    let next = shown.clone();
    let (core, admin) = (state.core.clone(), me.clone());
    let changed = blocking(move || Ok(settings::change_as(&core, &admin, move |c| *c = next)?));
    match changed.await {
        Ok(_) => Ok(see_other(&visitor, "/admin/settings?done=saved")),
        Err(e) if e.status.is_client_error() => Ok(page(
            &state,
            &visitor,
            &me,
            Arc::new(shown),
            None,
            Some(e.explanation()),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    csrf: String,
}

pub async fn restore(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(f): PageForm<RestoreForm>,
) -> Result<Response, PageError> {
    let me = administrator(&visitor, &f.csrf)?;
    let core = state.core.clone();
    blocking(move || Ok(settings::restore_file_as(&core, &me)?)).await?;
    Ok(see_other(&visitor, "/admin/settings?done=restored"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> Sent {
        Sent(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn unticked_boxes_turn_settings_off_and_rungs_are_collected() {
        let mut c = Config::default();
        let form = sent(&[
            ("name", "  Birds  "),
            ("rung", "360"),
            ("rung", "1080"),
            ("rung", "360"),
            ("signup_limit", "-1"),
        ]);
        form.apply(&mut c).unwrap();
        assert_eq!(c.instance.name, "Birds");
        assert!(!c.transcoding.enabled && !c.signup.enabled);
        assert_eq!(c.transcoding.resolutions, vec![1080, 360]);
    }

    #[test]
    fn numbers_that_are_not_are_named() {
        let mut c = Config::default();
        let e = sent(&[("video_quota", "ten")]).apply(&mut c).unwrap_err();
        assert!(e.contains("video quota"), "{e}");
        let e = sent(&[("rung", "tall")]).apply(&mut c).unwrap_err();
        assert!(e.contains("tall"), "{e}");
    }
}
