//! Stored messages → the durable events a resuming subscriber missed, in sequence order.

use super::events::ConversationEvent;
use crate::ports::store::{MessageStatus, Role, StoredMessage};

/// The durable events after `after`, by sequence number. Messages still streaming are left
/// out: the live reply is replayed from the actor's memory.
pub fn events_after(messages: Vec<StoredMessage>, after: i64) -> Vec<ConversationEvent> {
    let mut events = Vec::new();
    for m in messages {
        match m.role {
            Role::User => {
                if m.seq > after {
                    events.push((
                        m.seq,
                        ConversationEvent::UserMessage {
                            message_id: m.id,
                            seq: m.seq,
                            client_id: m.client_id.unwrap_or_default(),
                            text: m.text,
                        },
                    ));
                }
            }
            Role::Assistant => {
                let Some(end_seq) = m.end_seq else { continue };
                if m.seq > after {
                    events.push((
                        m.seq,
                        ConversationEvent::AssistantStart {
                            message_id: m.id,
                            seq: m.seq,
                            reply_to_seq: m.reply_to_seq.unwrap_or(0),
                        },
                    ));
                }
                if end_seq > after {
                    // Cards and the cart come just before the end they were stored with.
                    if !m.meta.products.is_empty() {
                        events.push((
                            end_seq,
                            ConversationEvent::Products {
                                message_id: m.id,
                                items: m.meta.products,
                            },
                        ));
                    }
                    if let Some(cart) = m.meta.cart {
                        events.push((end_seq, ConversationEvent::Cart { cart }));
                    }
                    if let Some(link) = m.meta.checkout {
                        events.push((end_seq, ConversationEvent::Checkout { link }));
                    }
                    if let Some(update) = m.meta.order {
                        events.push((end_seq, ConversationEvent::Order { update }));
                    }
                    events.push((
                        end_seq,
                        ConversationEvent::AssistantEnd {
                            message_id: m.id,
                            seq: end_seq,
                            text: m.text,
                            usage: m.usage,
                            interrupted: m.status == MessageStatus::Interrupted,
                            intent: m.meta.intent,
                            handled_by: m.meta.handled_by,
                        },
                    ));
                }
            }
        }
    }
    events.sort_by_key(|(seq, _)| *seq);
    events.into_iter().map(|(_, ev)| ev).collect()
}
