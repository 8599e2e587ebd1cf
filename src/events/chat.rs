//! Support chat: messages, typing, read receipts, agent status.

one_of! {
    /// Who wrote a chat message.
    SenderType { User = "user", Agent = "agent" }
}

one_of! {
    /// Kind of chat attachment.
    AttachmentType { Image = "image", File = "file" }
}

one_of! {
    /// Availability of a person (agents, presence).
    Availability { Online = "online", Offline = "offline", Away = "away" }
}

payload! {
    /// A file attached to a chat message.
    ChatAttachment {
        /// Image or file.
        kind "type": AttachmentType,
        /// Where to fetch it.
        url "url": String,
        /// File name.
        name "name": Option<String>,
    }
}

payload! {
    /// `chat:message`: a new message in a chat.
    ChatMessage {
        /// The message.
        message_id "messageId": String,
        /// The chat it belongs to.
        chat_id "chatId": String,
        /// Author id.
        sender_id "senderId": String,
        /// Author name.
        sender_name "senderName": String,
        /// User or agent.
        sender_type "senderType": SenderType,
        /// The text.
        text "text": String,
        /// ISO-8601 time.
        timestamp "timestamp": String,
        /// Attached files.
        attachments "attachments": Option<Vec<ChatAttachment>>,
    }
}

payload! {
    /// `chat:typing` (server → client): someone started or stopped typing.
    ChatTyping {
        /// The chat.
        chat_id "chatId": String,
        /// Who types.
        user_id "userId": String,
        /// Their name.
        user_name "userName": String,
        /// Started (true) or stopped (false).
        is_typing "isTyping": bool,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `chat:read` (server → client): messages were read.
    ChatRead {
        /// The chat.
        chat_id "chatId": String,
        /// The messages read.
        message_ids "messageIds": Vec<String>,
        /// Who read them.
        read_by "readBy": String,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `chat:agent_status`: a support agent's availability changed.
    ChatAgentStatus {
        /// The agent.
        agent_id "agentId": String,
        /// Their name.
        agent_name "agentName": String,
        /// Online, offline or away.
        status "status": Availability,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `chat:send_message` (client → server): send a message.
    ChatSendMessage {
        /// The chat.
        chat_id "chatId": String,
        /// The text (arrives as `text` in `chat:message`).
        message "message": String,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `chat:typing` (client → server): I started or stopped typing.
    ChatTypingInput {
        /// The chat.
        chat_id "chatId": String,
        /// Started (true) or stopped (false).
        is_typing "isTyping": bool,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `chat:read` (client → server): I read these messages.
    ChatReadInput {
        /// The chat.
        chat_id "chatId": String,
        /// The messages read.
        message_ids "messageIds": Vec<String>,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// The room of one conversation (`subscribe:chat`): its messages, typing and read receipts.
    ChatRoom {
        /// The chat.
        chat_id "chatId": String,
    }
}

impl super::Room for ChatRoom {
    const CHANNEL: &'static str = "chat";
}
