//! Namespaces: several stores in one database that cannot see each other (DESIGN §6).

use enginedb::{Selector, Value, Write};

use crate::{CaseResult, Ctx, contents};

/// The same key in two namespaces holds two values; lists and range deletes stay inside one.
pub async fn isolated(cx: &Ctx<'_>) -> CaseResult {
    let [a, b] = cx.harness().namespaces().await?;
    let key = cx.key("k");
    a.write_one(Write::set(key.clone(), "in a")).await?;
    b.write_one(Write::set(key.clone(), "in b")).await?;
    b.write_one(Write::set(cx.key("only_b"), 1)).await?;
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
    ensure_eq!(contents(&a, cx.root()).await?.len(), 1, "a lists only its own key");
    a.write_one(Write::delete_range(Selector::prefix(cx.root().clone())))
        .await?;
    ensure_eq!(contents(&b, cx.root()).await?.len(), 2, "a's range delete left b alone");
    Ok(())
}
