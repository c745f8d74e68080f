"""17TRACK (parcel tracking API v2.2): client, pure mapping, local fake. The tracking app (tracking/) uses them."""
