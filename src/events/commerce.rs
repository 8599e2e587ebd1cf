//! Shopping carts with reserved stock.

payload! {
    /// One cart line.
    CartItem {
        /// Line id.
        id "id": String,
        /// The product.
        product_id "productId": String,
        /// How many.
        quantity "quantity": f64,
        /// Unit price.
        price "price": f64,
    }
}

payload! {
    /// `cart:sync`: the whole cart, as the server has it.
    CartSync {
        /// The owner.
        user_id "userId": String,
        /// The cart.
        cart_id "cartId": String,
        /// Its lines.
        items "items": Vec<CartItem>,
        /// Sum of quantities.
        total_items "totalItems": f64,
        /// Sum of prices.
        total_price "totalPrice": f64,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `cart:item_reserved`: stock was held for a cart line.
    CartItemReserved {
        /// The cart.
        cart_id "cartId": String,
        /// The line.
        item_id "itemId": String,
        /// The product.
        product_id "productId": String,
        /// ISO-8601 end of the hold.
        reserved_until "reservedUntil": String,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Why a reservation ended.
    ReleaseReason { Timeout = "timeout", Purchased = "purchased", Removed = "removed" }
}

payload! {
    /// `cart:item_released`: a hold ended.
    CartItemReleased {
        /// The cart.
        cart_id "cartId": String,
        /// The line.
        item_id "itemId": String,
        /// The product.
        product_id "productId": String,
        /// Why.
        reason "reason": ReleaseReason,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}
