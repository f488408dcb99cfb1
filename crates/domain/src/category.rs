//! The closed list of catalog categories a provider file may name (`category: crm`): the app
//! picker groups and filters by it, and `docs/catalog.md` lists it.
//!
//! The list is closed so that a typo is an error naming the allowed words, rather than a new
//! heading of one app in the picker; `other` is the home of whatever fits nowhere else.

use serde::{Deserialize, Serialize};

/// What kind of service a provider is, for finding it among many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Customers, contacts and deals (HubSpot, Salesforce, Pipedrive).
    Crm,
    /// Sending and reading email (Gmail, SendGrid, Postmark).
    Email,
    /// Chat, SMS and voice (Slack, Twilio).
    Messaging,
    /// Campaigns, audiences and newsletters (Mailchimp, Klaviyo).
    Marketing,
    /// Help desks and tickets (Zendesk, Freshdesk).
    Support,
    /// Notes, documents and to-dos (Notion, Todoist).
    Productivity,
    /// Tasks, issues and projects of a team (Asana, Jira).
    ProjectManagement,
    /// File storage and sharing (Dropbox, Google Drive).
    Files,
    /// Spreadsheets and table databases (Google Sheets, Airtable).
    Spreadsheets,
    /// Calendars and events.
    Calendar,
    /// Code, builds and error tracking (GitHub, Sentry).
    Developer,
    /// Hosting, DNS, monitoring and on-call (Cloudflare, Datadog).
    Infrastructure,
    /// Online stores: orders, products and inventory (Shopify).
    Ecommerce,
    /// Taking payments (Stripe).
    Payments,
    /// Bookkeeping and invoices (QuickBooks).
    Accounting,
    /// AI models (OpenAI, Anthropic).
    Ai,
    /// Anything else, and every provider whose file names no category.
    Other,
}

impl Category {
    /// Every category, in the order the picker shows their headings (`other` last).
    pub const ALL: [Category; 17] = [
        Category::Crm,
        Category::Email,
        Category::Messaging,
        Category::Marketing,
        Category::Support,
        Category::Productivity,
        Category::ProjectManagement,
        Category::Files,
        Category::Spreadsheets,
        Category::Calendar,
        Category::Developer,
        Category::Infrastructure,
        Category::Ecommerce,
        Category::Payments,
        Category::Accounting,
        Category::Ai,
        Category::Other,
    ];

    /// The word written in provider files, URLs (`?category=crm`) and API responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Crm => "crm",
            Category::Email => "email",
            Category::Messaging => "messaging",
            Category::Marketing => "marketing",
            Category::Support => "support",
            Category::Productivity => "productivity",
            Category::ProjectManagement => "project-management",
            Category::Files => "files",
            Category::Spreadsheets => "spreadsheets",
            Category::Calendar => "calendar",
            Category::Developer => "developer",
            Category::Infrastructure => "infrastructure",
            Category::Ecommerce => "ecommerce",
            Category::Payments => "payments",
            Category::Accounting => "accounting",
            Category::Ai => "ai",
            Category::Other => "other",
        }
    }

    /// The heading shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Category::Crm => "CRM",
            Category::Email => "Email",
            Category::Messaging => "Messaging",
            Category::Marketing => "Marketing",
            Category::Support => "Customer support",
            Category::Productivity => "Productivity",
            Category::ProjectManagement => "Project management",
            Category::Files => "Files",
            Category::Spreadsheets => "Spreadsheets and databases",
            Category::Calendar => "Calendar",
            Category::Developer => "Developer tools",
            Category::Infrastructure => "Infrastructure and monitoring",
            Category::Ecommerce => "E-commerce",
            Category::Payments => "Payments",
            Category::Accounting => "Accounting",
            Category::Ai => "AI",
            Category::Other => "Other",
        }
    }

    /// The category written as `word`, if it is one.
    pub fn parse(word: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == word)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    use super::Category;

    fn from_word(word: &str) -> Result<Category, Error> {
        let d: StrDeserializer<'_, Error> = word.into_deserializer();
        Category::deserialize(d)
    }

    #[test]
    fn the_file_words_are_the_serde_names() {
        for c in Category::ALL {
            assert_eq!(from_word(c.as_str()), Ok(c), "{c:?}");
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert_eq!(Category::parse("project_management"), None);
        // serde's refusal lists the allowed words, which the catalog's error passes on.
        let e = from_word("crms").unwrap_err().to_string();
        assert!(e.contains("`crm`") && e.contains("`project-management`") && e.contains("`other`"), "{e}");
    }
}
