//! The app picker's arrangement of a catalog: the apps that match a search, under their category
//! headings, and the category chips that narrow it (links, so the filter needs no JavaScript).

use patchbay_domain::provider::Category;
use patchbay_service::views::ProviderView;

use crate::ui::pages::{AppChoice, AppGroup, CategoryChip};
use crate::ui::session::percent_encode;

/// What the picker shows for a search `needle` (lower case, may be empty) within `category`.
pub(super) struct Arranged {
    pub chips: Vec<CategoryChip>,
    pub groups: Vec<AppGroup>,
}

/// Arranges `providers`: the chips count the apps matching the search in every category (so
/// choosing one never leads to an empty page), the groups hold those of the chosen category.
pub(super) fn arrange(providers: &[ProviderView], needle: &str, q: &str, category: Option<Category>) -> Arranged {
    let mut matching: Vec<AppChoice> =
        providers.iter().map(AppChoice::new).filter(|a| needle.is_empty() || a.matches(needle)).collect();
    matching.sort_by_key(|a| (a.category, a.name.to_lowercase()));
    let href = |word: Option<&str>| {
        let mut params = Vec::new();
        if !q.is_empty() {
            params.push(format!("q={}", percent_encode(q)));
        }
        if let Some(w) = word {
            params.push(format!("category={w}"));
        }
        if params.is_empty() { "/connections/new".to_owned() } else { format!("/connections/new?{}", params.join("&")) }
    };
    let mut chips =
        vec![CategoryChip { label: "All", href: href(None), count: matching.len(), current: category.is_none() }];
    let mut groups: Vec<AppGroup> = Vec::new();
    for app in matching {
        let c = app.category;
        match chips.last_mut() {
            Some(chip) if chip.label == c.label() => chip.count += 1,
            _ => chips.push(CategoryChip {
                label: c.label(),
                href: href(Some(c.as_str())),
                count: 1,
                current: category == Some(c),
            }),
        }
        if category.is_some_and(|want| want != c) {
            continue;
        }
        match groups.last_mut() {
            Some(g) if g.word == c.as_str() => g.apps.push(app),
            _ => groups.push(AppGroup { word: c.as_str(), label: c.label(), apps: vec![app] }),
        }
    }
    Arranged { chips, groups }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::provider::Provider;

    use super::*;

    fn view(id: &str, name: &str, category: Option<&str>, module: &str) -> ProviderView {
        let p: Provider = serde_json::from_value(serde_json::json!({
            "id": id, "display_name": name, "auth_mode": "api_key", "category": category,
            "modules": {"m": {"name": module}},
        }))
        .unwrap();
        ProviderView::new(&p)
    }

    #[test]
    fn apps_group_by_category_and_chips_count_the_search() {
        let all = [
            view("zed", "Zed CRM", Some("crm"), "Watch deals"),
            view("acme", "Acme", Some("crm"), "Create a deal"),
            view("mailer", "Mailer", Some("email"), "Send an email"),
            view("misc", "Misc", None, "Ping"),
        ];
        let a = arrange(&all, "", "", None);
        let groups: Vec<(&str, Vec<&str>)> =
            a.groups.iter().map(|g| (g.label, g.apps.iter().map(|x| x.id.as_str()).collect())).collect();
        assert_eq!(groups, [("CRM", vec!["acme", "zed"]), ("Email", vec!["mailer"]), ("Other", vec!["misc"])]);
        let chips: Vec<(&str, usize, bool)> = a.chips.iter().map(|c| (c.label, c.count, c.current)).collect();
        assert_eq!(chips, [("All", 4, true), ("CRM", 2, false), ("Email", 1, false), ("Other", 1, false)]);
        // A search by what an app does, within a category: the chips keep the search.
        let a = arrange(&all, "deal", "deal", Some(Category::Crm));
        assert_eq!(a.groups.len(), 1);
        assert_eq!(a.groups[0].apps.len(), 2);
        assert_eq!(a.chips[1].href, "/connections/new?q=deal&category=crm");
        assert!(a.chips[1].current && !a.chips[0].current);
        let a = arrange(&all, "send email", "send email", None);
        assert_eq!(a.groups.iter().map(|g| g.apps[0].id.as_str()).collect::<Vec<_>>(), ["mailer"]);
        assert_eq!(a.chips[0].href, "/connections/new?q=send%20email");
    }
}
