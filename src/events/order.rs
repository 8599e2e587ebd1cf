//! Order tracking: status, courier location, ETA.

payload! {
    /// `order:status_update`: an order moved to a new status.
    OrderStatusUpdate {
        /// The order.
        order_id "orderId": String,
        /// New status, e.g. `"preparing"`, `"out_for_delivery"`, `"delivered"` (free text in the apps).
        status "status": String,
        /// Human-readable message for the user.
        message "message": String,
        /// ISO-8601 time of the change.
        timestamp "timestamp": String,
        /// ISO-8601 estimated delivery, when known.
        estimated_delivery "estimatedDelivery": Option<String>,
    }
}

payload! {
    /// A point on the map.
    GeoPoint {
        /// Degrees.
        latitude "latitude": f64,
        /// Degrees.
        longitude "longitude": f64,
        /// Street address, when known.
        address "address": Option<String>,
    }
}

payload! {
    /// The courier carrying an order.
    DeliveryPartner {
        /// Name shown to the user.
        name "name": String,
        /// Contact number.
        phone "phone": String,
        /// Vehicle description.
        vehicle "vehicle": Option<String>,
    }
}

payload! {
    /// `order:location_update`: the courier moved.
    OrderLocationUpdate {
        /// The order.
        order_id "orderId": String,
        /// Where the courier is.
        location "location": GeoPoint,
        /// Metres left, when known.
        distance_to_destination "distanceToDestination": Option<f64>,
        /// Who is delivering.
        delivery_partner "deliveryPartner": Option<DeliveryPartner>,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `order:eta_update`: the arrival estimate changed.
    OrderEtaUpdate {
        /// The order.
        order_id "orderId": String,
        /// ISO-8601 estimated arrival.
        estimated_arrival "estimatedArrival": String,
        /// Delay against the first estimate, minutes.
        delay_minutes "delayMinutes": Option<f64>,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// The room of one order (`subscribe:order`): its status, location and ETA updates.
    OrderRoom {
        /// The order.
        order_id "orderId": String,
    }
}

impl super::Room for OrderRoom {
    const CHANNEL: &'static str = "order";
}
