//! Users and tokens: stored as given (hashes only), matched by hash, in
//! their organisation.

use cordon_store::auth::{NewToken, NewUser, Session};
use cordon_store::StoreError;

use super::{fresh, Backend};

pub fn users_and_tokens<B: Backend>() {
    let store = fresh::<B>();
    let user = |email: &str, org: &str| NewUser {
        email: email.into(),
        org: org.into(),
        role: "admin".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    };
    let added = store.add_user(&user("a@hub.example", "hub")).unwrap();
    assert_eq!((added.org.as_str(), added.disabled), ("hub", false));
    assert!(matches!(store.add_user(&user("a@hub.example", "hub")), Err(StoreError::Conflict(_))));
    assert!(matches!(store.add_user(&user("b@x.example", "nobody")), Err(StoreError::Aborted(_))));
    let token = NewToken {
        user: "a@hub.example".into(),
        sha256: "ab".repeat(32),
        prefix: "cordon_abcd".into(),
        expires: Some(100),
        read_only: true,
        allow_ips: vec!["10.0.0.0/8".into(), "192.0.2.0/24".into()],
    };
    let stored = store.add_token(&token, 10).unwrap();
    assert_eq!((stored.read_only, stored.allow_ips.len(), stored.expires), (true, 2, Some(100)));
    let (found, owner) = store.token_by_hash(&"ab".repeat(32)).unwrap().unwrap();
    assert_eq!((found.id, owner.email.as_str()), (stored.id, "a@hub.example"));
    assert!(store.token_by_hash(&"cd".repeat(32)).unwrap().is_none());
    assert!(store.revoke_token(stored.id, 20).unwrap());
    assert!(!store.revoke_token(stored.id, 30).unwrap(), "revoked once");
    assert_eq!(store.tokens(Some("a@hub.example")).unwrap()[0].revoked, Some(20));
    assert!(store.disable_user("a@hub.example").unwrap());
    assert!(store.user("a@hub.example").unwrap().unwrap().disabled);
    assert_eq!(store.users().unwrap().len(), 1);
}

pub fn sessions_are_matched_by_hash_and_expired_ones_dropped<B: Backend>() {
    let store = fresh::<B>();
    let user =
        NewUser { email: "a@hub.example".into(), org: "hub".into(), role: "analyst".into(), password_hash: None };
    store.add_user(&user).unwrap();
    let session = |created, expires| Session { user: "a@hub.example".into(), created, expires };
    store.add_session(&"ab".repeat(32), &session(10, 100)).unwrap();
    let (found, owner) = store.session_by_hash(&"ab".repeat(32)).unwrap().unwrap();
    assert_eq!((found, owner.email.as_str()), (session(10, 100), "a@hub.example"));
    assert!(store.session_by_hash(&"cd".repeat(32)).unwrap().is_none());
    let nobody = Session { user: "b@hub.example".into(), created: 10, expires: 100 };
    assert!(matches!(store.add_session(&"ef".repeat(32), &nobody), Err(StoreError::Aborted(_))));
    // A session beginning after the first expired drops it.
    store.add_session(&"cd".repeat(32), &session(100, 200)).unwrap();
    assert!(store.session_by_hash(&"ab".repeat(32)).unwrap().is_none(), "expired sessions are dropped");
    assert!(store.remove_session(&"cd".repeat(32)).unwrap());
    assert!(!store.remove_session(&"cd".repeat(32)).unwrap(), "removed once");
    assert!(store.session_by_hash(&"cd".repeat(32)).unwrap().is_none());
}
