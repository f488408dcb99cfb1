//! One module per emulated service; [`all`] lists them for the kit.

pub mod atlassian;
pub mod boxcom;
pub mod docusign;
pub mod dropbox;
pub mod github;
pub mod google;
pub mod hubspot;
pub mod intercom;
pub mod linear;
pub mod mailchimp;
pub mod microsoft;
pub mod notion;
pub mod pipedrive;
pub mod quickbooks;
pub mod salesforce;
pub mod slack;
pub mod xero;
pub mod zendesk;

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
        Arc::new(pipedrive::Pipedrive),
        Arc::new(mailchimp::Mailchimp),
        Arc::new(docusign::Docusign),
        Arc::new(zendesk::Zendesk),
    ]
}
