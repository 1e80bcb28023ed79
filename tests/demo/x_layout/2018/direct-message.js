window.YTD.direct_message.part0 = [ {
  "dmConversation" : {
    "conversationId" : "1200000000000000001-1300000000000000042",
    "messages" : [ ]
  }
}, {
  "dmConversation" : {
    "conversationId" : "1200000000000000001-1300000000000000043",
    "messages" : [ {
      "messageCreate" : {
        "recipientId" : "1300000000000000043",
        "text" : "Thanks — we’ve passed it on \uD83D\uDE93 \"ref : 42\"",
        "mediaUrls" : [ ],
        "senderId" : "1200000000000000001",
        "id" : "1030000000000000002",
        "createdAt" : "1534138567670"
      }
    }, {
      "messageCreate" : {
        "recipientId" : "1200000000000000001",
        "text" : "My bike was taken from Exampleford station \\ ’blue’ ❤",
        "mediaUrls" : [ "https://ton.twitter.com/dm/1030000000000000001/1030000000000000009/AbCd.jpg" ],
        "senderId" : "1300000000000000043",
        "id" : "1030000000000000001",
        "createdAt" : "1534138500000"
      }
    } ]
  }
} ]