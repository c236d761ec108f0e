//! Table definitions shared by both backends: the migrations in
//! `migrations/sqlite` and `migrations/postgres` produce these same columns.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_api_keys (id) {
        id -> Text,
        user_id -> Text,
        provider -> Text,
        encrypted_key -> Text,
        key_hint -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_token_families (id) {
        id -> Text,
        user_id -> Text,
        current_jti -> Text,
        created_at -> Timestamp,
        rotated_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        user_id -> Text,
        title -> Text,
        models -> Text,
        lead_model -> Text,
        message_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        conversation_id -> Text,
        seq -> Integer,
        role -> Text,
        content -> Text,
        status -> Nullable<Text>,
        stage1 -> Nullable<Text>,
        stage2 -> Nullable<Text>,
        stage3 -> Nullable<Text>,
        metadata -> Nullable<Text>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        runner_id -> Nullable<Text>,
    }
}

diesel::table! {
    server_instances (id) {
        id -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
    }
}

diesel::joinable!(user_api_keys -> users (user_id));
diesel::joinable!(refresh_token_families -> users (user_id));
diesel::joinable!(conversations -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_api_keys,
    refresh_token_families,
    conversations,
    messages,
    server_instances,
);
