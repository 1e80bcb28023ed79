"""What a backup asks the X API for: every field that matters and the expansions that bring
in authors, media and referenced posts (tweepy passes comma-separated strings through)."""

TWEET_FIELDS = (
    "attachments,author_id,context_annotations,conversation_id,created_at,edit_controls,"
    "edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,note_tweet,"
    "possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text,withheld"
)
TWEET_EXPANSIONS = (
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id,"
    "attachments.media_keys,attachments.poll_ids,geo.place_id,entities.mentions.username,"
    "edit_history_tweet_ids"
)
USER_FIELDS = (
    "created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,"
    "protected,public_metrics,url,username,verified,withheld"
)
MEDIA_FIELDS = (
    "alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,variants,width"
)
TWEET_PARAMS = {
    "tweet_fields": TWEET_FIELDS,
    "expansions": TWEET_EXPANSIONS,
    "user_fields": USER_FIELDS,
    "media_fields": MEDIA_FIELDS,
    "poll_fields": "duration_minutes,end_datetime,id,options,voting_status",
    "place_fields": "country,country_code,full_name,geo,id,name,place_type",
}
DM_PARAMS = {
    "dm_event_fields": "attachments,created_at,dm_conversation_id,entities,event_type,id,"
    "participant_ids,referenced_tweets,sender_id,text",
    "expansions": "attachments.media_keys,participant_ids,referenced_tweets.id,sender_id",
    "user_fields": USER_FIELDS,
    "media_fields": MEDIA_FIELDS,
    "tweet_fields": TWEET_FIELDS,
}
LIST_PARAMS = {
    "list_fields": "created_at,description,follower_count,id,member_count,name,owner_id,private",
    "expansions": "owner_id",
    "user_fields": USER_FIELDS,
}
