//! One module per emulated service; [`all`] lists them for the kit.

pub mod atlassian;
pub mod boxcom;
pub mod discord;
pub mod dropbox;
pub mod github;
pub mod google;
pub mod hubspot;
pub mod intercom;
pub mod linear;
pub mod linkedin;
pub mod microsoft;
pub mod notion;
pub mod quickbooks;
pub mod reddit;
pub mod salesforce;
pub mod slack;
pub mod spotify;
pub mod strava;
pub mod twitch;
pub mod x;
pub mod xero;

use std::sync::Arc;

use crate::profile::Profile;

/// Every profile, in the order the kit starts them.
pub fn all() -> Vec<Arc<dyn Profile>> {
    vec![
        Arc::new(google::Google),
        Arc::new(microsoft::Microsoft),
        Arc::new(slack::Slack),
        Arc::new(notion::Notion),
        Arc::new(salesforce::Salesforce),
        Arc::new(dropbox::Dropbox),
        Arc::new(quickbooks::QuickBooks),
        Arc::new(github::GitHub),
        Arc::new(hubspot::HubSpot),
        Arc::new(atlassian::Atlassian),
        Arc::new(linear::Linear),
        Arc::new(boxcom::BoxCom),
        Arc::new(intercom::Intercom),
        Arc::new(xero::Xero),
        Arc::new(spotify::Spotify),
        Arc::new(discord::Discord),
        Arc::new(x::X),
        Arc::new(reddit::Reddit),
        Arc::new(twitch::Twitch),
        Arc::new(linkedin::LinkedIn),
        Arc::new(strava::Strava),
    ]
}
