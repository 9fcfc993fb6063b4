//! TEMPORARY (issue 21): a private copy of the signatures of the core's `notifications` module
//! (see the lead's interface note) with a hand table of four kinds, so this module compiles
//! before the core lands. Deleted when `main` has the real module.

#![allow(dead_code)]

use greenapi_settings::Settings;
use serde_json::{Map, Value};

/// Delivery facts.
pub(crate) struct DeliveryInfo {
    pub(crate) response_timeout_secs: u64,
    pub(crate) retry_pause_secs: u64,
    pub(crate) success_status: u16,
    pub(crate) authorization_scheme: &'static str,
}

pub(crate) const DELIVERY: DeliveryInfo = DeliveryInfo {
    response_timeout_secs: 180,
    retry_pause_secs: 60,
    success_status: 200,
    authorization_scheme: "Bearer",
};

/// One notification kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NotificationInfo {
    pub(crate) type_webhook: &'static str,
    pub(crate) variant: Option<&'static str>,
    pub(crate) variant_field: Option<&'static str>,
    pub(crate) requires: &'static [&'static str],
    pub(crate) skeleton: &'static str,
}

pub(crate) const NOTIFICATIONS: &[NotificationInfo] = &[
    NotificationInfo {
        type_webhook: "incomingMessageReceived",
        variant: None,
        variant_field: None,
        requires: &["incomingWebhook"],
        skeleton: r#"{"typeWebhook":"incomingMessageReceived","instanceData":{"idInstance":0,"wid":"","typeInstance":"whatsapp"},"timestamp":0,"idMessage":"","senderData":{"chatId":"79001234568@c.us","sender":"79001234568@c.us","chatName":"Sandbox","senderName":"Sandbox","senderContactName":""},"messageData":{"typeMessage":"textMessage","textMessageData":{"textMessage":"Hello from the sandbox"}}}"#,
    },
    NotificationInfo {
        type_webhook: "incomingMessageReceived",
        variant: Some("editedMessage"),
        variant_field: Some("messageData.typeMessage"),
        requires: &["incomingWebhook", "editedMessageWebhook"],
        skeleton: r#"{"typeWebhook":"incomingMessageReceived","instanceData":{"idInstance":0,"wid":"","typeInstance":"whatsapp"},"timestamp":0,"idMessage":"","senderData":{"chatId":"79001234568@c.us","sender":"79001234568@c.us","chatName":"Sandbox","senderName":"Sandbox","senderContactName":""},"messageData":{"typeMessage":"editedMessage","editedMessageData":{"textMessage":"edited","stanzaId":"BAE5F4886F6F2D05"}}}"#,
    },
    NotificationInfo {
        type_webhook: "stateInstanceChanged",
        variant: None,
        variant_field: None,
        requires: &["stateWebhook"],
        skeleton: r#"{"typeWebhook":"stateInstanceChanged","instanceData":{"idInstance":0,"wid":"","typeInstance":"whatsapp"},"timestamp":0,"stateInstance":"authorized"}"#,
    },
    NotificationInfo {
        type_webhook: "incomingCall",
        variant: None,
        variant_field: None,
        requires: &["incomingWebhook", "incomingCallWebhook"],
        skeleton: r#"{"typeWebhook":"incomingCall","instanceData":{"idInstance":0,"wid":"","typeInstance":"whatsapp"},"timestamp":0,"idMessage":"","from":"79001234568@c.us","status":"offer"}"#,
    },
];

/// What a body is made with.
pub(crate) struct BodyContext<'a> {
    pub(crate) id_instance: u64,
    pub(crate) wid: &'a str,
    pub(crate) timestamp: u64,
    pub(crate) id_message: &'a str,
}

impl NotificationInfo {
    pub(crate) fn key(&self) -> String {
        match self.variant {
            Some(v) => format!("{}:{v}", self.type_webhook),
            None => self.type_webhook.to_string(),
        }
    }

    pub(crate) fn find(key: &str) -> Option<&'static NotificationInfo> {
        NOTIFICATIONS.iter().find(|n| n.key() == key)
    }

    pub(crate) fn missing(&self, settings: &Settings) -> Vec<&'static str> {
        self.requires
            .iter()
            .copied()
            .filter(|name| settings.get_json(name) != Some(Value::from("yes")))
            .collect()
    }

    pub(crate) fn why_suppressed(&self, settings: &Settings) -> Option<String> {
        let missing = self.missing(settings);
        if missing.is_empty() {
            return None;
        }
        Some(format!(
            "{} needs {}: {} {} off",
            self.key(),
            self.requires.join(" and "),
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ))
    }

    pub(crate) fn body(
        &self,
        ctx: &BodyContext<'_>,
        fields: &Map<String, Value>,
    ) -> Result<Value, String> {
        let mut body: Value = serde_json::from_str(self.skeleton).map_err(|e| e.to_string())?;
        body["instanceData"]["idInstance"] = ctx.id_instance.into();
        body["instanceData"]["wid"] = ctx.wid.into();
        body["timestamp"] = ctx.timestamp.into();
        if body.get("idMessage").is_some() {
            body["idMessage"] = ctx.id_message.into();
        }
        for (k, v) in fields {
            if k == "typeWebhook" {
                return Err("fields: typeWebhook cannot be changed".into());
            }
            if let Some(old) = body.get(k) {
                if std::mem::discriminant(old) != std::mem::discriminant(v) {
                    return Err(format!(
                        "fields: {k} has another JSON type than in the body"
                    ));
                }
            }
            body[k] = v.clone();
        }
        Ok(body)
    }
}
