//! Deterministic identifiers: UUIDv5 in cordon's namespace, so that the
//! same indicator keeps its STIX id and MISP uuid from one export to the
//! next.

use uuid::Uuid;

/// cordon's UUIDv5 namespace (a random UUIDv4, fixed forever: changing it
/// changes every exported id).
const NAMESPACE: Uuid = Uuid::from_u128(0x0ea4_7ec1_1ee5_4e16_8396_c134_1671_f190);

/// The UUIDv5 of `name` for objects of `kind` (`indicator`, `misp-event`,
/// …): the kind keeps ids of different objects over the same value apart.
pub(crate) fn uuid(kind: &str, name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{name}").as_bytes())
}
