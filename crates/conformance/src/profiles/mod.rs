//! One module per emulated service; [`all`] lists them for the kit.

pub mod airtable;
pub mod asana;
pub mod atlassian;
pub mod bitbucket;
pub mod boxcom;
pub mod calendly;
pub mod clickup;
pub mod discord;
pub mod docusign;
pub mod dropbox;
pub mod eventbrite;
pub mod figma;
pub mod github;
pub mod gitlab;
pub mod google;
pub mod hubspot;
pub mod intercom;
pub mod linear;
pub mod linkedin;
pub mod mailchimp;
pub mod microsoft;
pub mod miro;
pub mod monday;
pub mod notion;
pub mod pipedrive;
pub mod quickbooks;
pub mod reddit;
pub mod salesforce;
pub mod shopify;
pub mod slack;
pub mod smartsheet;
pub mod spotify;
pub mod strava;
pub mod todoist;
pub mod twitch;
pub mod typeform;
pub mod webflow;
pub mod wrike;
pub mod x;
pub mod xero;
pub mod zendesk;
pub mod zoho;
pub mod zoom;

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
        Arc::new(figma::Figma),
        Arc::new(shopify::Shopify),
        Arc::new(atlassian::Atlassian),
        Arc::new(linear::Linear),
        Arc::new(boxcom::BoxCom),
        Arc::new(intercom::Intercom),
        Arc::new(xero::Xero),
        Arc::new(monday::Monday),
        Arc::new(clickup::ClickUp),
        Arc::new(zoho::Zoho),
        Arc::new(wrike::Wrike),
        Arc::new(smartsheet::Smartsheet),
        Arc::new(miro::Miro),
        Arc::new(todoist::Todoist),
        Arc::new(gitlab::GitLab),
        Arc::new(asana::Asana),
        Arc::new(zoom::Zoom),
        Arc::new(bitbucket::Bitbucket),
        Arc::new(spotify::Spotify),
        Arc::new(discord::Discord),
        Arc::new(x::X),
        Arc::new(reddit::Reddit),
        Arc::new(twitch::Twitch),
        Arc::new(linkedin::LinkedIn),
        Arc::new(strava::Strava),
        Arc::new(calendly::Calendly),
        Arc::new(typeform::Typeform),
        Arc::new(airtable::Airtable),
        Arc::new(webflow::Webflow),
        Arc::new(eventbrite::Eventbrite),
        Arc::new(pipedrive::Pipedrive),
        Arc::new(mailchimp::Mailchimp),
        Arc::new(docusign::Docusign),
        Arc::new(zendesk::Zendesk),
    ]
}
