"""SMS provider client (Aliyun dysmsapi SendSms) and its request signing."""
