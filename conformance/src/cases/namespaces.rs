//! Namespaces: several stores in one database that cannot see each other (DESIGN §6).

use enginedb::{Selector, Value, Write};

use crate::{CaseError, CaseResult, Ctx, contents};

/// The same key in two namespaces holds two values; lists and range deletes stay inside one.
pub async fn isolated(cx: &Ctx<'_>) -> CaseResult {
    let [a, b] = match cx.harness().namespaces().await {
        Some(stores) => stores?,
        None => return Err(CaseError::NotApplicable("namespaces")),
    };
    let key = cx.key("k");
    a.write(&Write::set(key.clone(), "in a")).await?;
    b.write(&Write::set(key.clone(), "in b")).await?;
    b.write(&Write::set(cx.key("only_b"), 1)).await?;
    ensure_eq!(
        a.get(&key).await?.map(|e| e.value),
        Some(Value::from("in a")),
        "a's value"
    );
    ensure_eq!(
        b.get(&key).await?.map(|e| e.value),
        Some(Value::from("in b")),
        "b's value"
    );
    ensure_eq!(contents(&*a, cx.root()).await?.len(), 1, "a lists only its own key");
    a.write(&Write::delete_range(Selector::Prefix(cx.root().clone())))
        .await?;
    ensure_eq!(
        contents(&*b, cx.root()).await?.len(),
        2,
        "a's range delete left b alone"
    );
    Ok(())
}
