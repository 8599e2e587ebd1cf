//! Notifications and presence.

use super::Availability;

payload! {
    /// Links from a notification to what it is about.
    NotificationData {
        /// A property.
        property_id "propertyId": Option<String>,
        /// An investment.
        investment_id "investmentId": Option<String>,
        /// A transaction.
        transaction_id "transactionId": Option<String>,
        /// A deep link.
        url "url": Option<String>,
    }
}

payload! {
    /// A notification.
    Notification {
        /// The notification.
        id "id": String,
        /// Its kind (free text, e.g. `"reward"`).
        kind "type": String,
        /// Title.
        title "title": String,
        /// Body.
        body "body": String,
        /// Links.
        data "data": Option<NotificationData>,
        /// Read yet.
        read "read": bool,
        /// ISO-8601 creation time.
        created_at "createdAt": String,
    }
}

payload! {
    /// `notification:new`: a notification for the user.
    NotificationNew {
        /// The recipient.
        user_id "userId": String,
        /// The notification.
        notification "notification": Notification,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `notification:read` (client → server): I read a notification.
    NotificationRead {
        /// The notification.
        notification_id "notificationId": String,
    }
}

payload! {
    /// `user:online`: a user came online.
    UserOnline {
        /// The user.
        user_id "userId": String,
    }
}

payload! {
    /// `user:offline`: a user went offline.
    UserOffline {
        /// The user.
        user_id "userId": String,
        /// ISO-8601 last activity.
        last_seen "lastSeen": Option<String>,
    }
}

payload! {
    /// `presence:update` (client → server): my availability.
    PresenceUpdate {
        /// Online, offline or away.
        status "status": Availability,
    }
}
