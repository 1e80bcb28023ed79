window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1900000000000000101"
          ],
          "editableUntil" : "2025-03-14T10:12:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [
          {
            "name" : "Ann Resident",
            "screen_name" : "resident_ann",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1300000000000000042",
            "id" : "1300000000000000042"
          }
        ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "70"
      ],
      "favorite_count" : "3",
      "in_reply_to_status_id_str" : "1900000000000000050",
      "id_str" : "1900000000000000101",
      "in_reply_to_user_id" : "1300000000000000042",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1900000000000000101",
      "in_reply_to_status_id" : "1900000000000000050",
      "possibly_sensitive" : false,
      "created_at" : "Fri Mar 14 09:12:00 +0000 2025",
      "favorited" : false,
      "full_text" : "@resident_ann Thanks: \"A123 : closed\" \\ we're on it &amp; 🚓 en route… https://t.co/AbCdEf1234",
      "lang" : "en",
      "in_reply_to_screen_name" : "resident_ann",
      "in_reply_to_user_id_str" : "1300000000000000042",
      "extended_entities" : {
        "media" : [
          {
            "expanded_url" : "https://x.com/ExampleshirePolice/status/1900000000000000101/photo/1",
            "indices" : [
              "71",
              "94"
            ],
            "url" : "https://t.co/AbCdEf1234",
            "media_url" : "http://pbs.twimg.com/media/GExampleAAA1.jpg",
            "id_str" : "1900000000000000100",
            "id" : "1900000000000000100",
            "media_url_https" : "https://pbs.twimg.com/media/GExampleAAA1.jpg",
            "sizes" : {
              "thumb" : {
                "w" : "150",
                "h" : "150",
                "resize" : "crop"
              },
              "large" : {
                "w" : "1200",
                "h" : "675",
                "resize" : "fit"
              }
            },
            "type" : "photo",
            "display_url" : "pic.x.com/AbCdEf1234"
          }
        ]
      }
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1890000000000000007"
          ],
          "editableUntil" : "2025-02-10T09:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "WitnessAppeal",
            "indices" : [
              "49",
              "63"
            ]
          }
        ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "63"
      ],
      "favorite_count" : "12",
      "id_str" : "1890000000000000007",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1890000000000000007",
      "created_at" : "Mon Feb 10 08:00:00 +0000 2025",
      "favorited" : false,
      "full_text" : "Did you see a red van in Exampleford?\nCall 101. #WitnessAppeal",
      "lang" : "en"
    }
  }
]